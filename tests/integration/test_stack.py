"""`deid stack` on its own data dir and ports: lifecycle, persistence and every error path."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from catalog.client import CatalogClient, entity
from deid.settings import Settings
from tests.conftest import REPO, run_deid, stack_env

pytestmark = pytest.mark.kafka


def _wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_lifecycle_is_idempotent_and_data_survives(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    try:
        assert run_deid("stack", "status", env=env).returncode == 3

        up = run_deid("stack", "up", env=env)
        assert up.returncode == 0, up.stderr
        assert "kafka: started on " in up.stdout
        assert f"catalog: started on {env['DEID_CATALOG_URL']}" in up.stdout
        assert f"admin password in {tmp_path.resolve() / 'catalog' / 'admin-password'}" in up.stdout
        assert (tmp_path / "kafka-broker" / "kafka.pid").is_file()
        assert (tmp_path / "catalog" / "catalog.pid").is_file()
        catalog = CatalogClient.from_settings(Settings(data_dir=tmp_path, catalog_url=env["DEID_CATALOG_URL"]))
        assert catalog.session_info()["userName"] == "admin"

        again = run_deid("stack", "up", env=env)
        assert again.returncode == 0 and "kafka: already running" in again.stdout
        assert "catalog: already running" in again.stdout

        status = run_deid("stack", "status", "--json", env=env)
        assert status.returncode == 0
        assert {name: state["running"] for name, state in json.loads(status.stdout).items()} == {
            "kafka": True,
            "catalog": True,
            "pipelines": True,  # optional: none running is a normal state
        }
        assert "pipelines: no published policy yet: channel, " in up.stdout

        created = run_deid("topics", "create", "--domain", "channel", env=env)
        assert created.returncode == 0, created.stderr

        topic = entity("kafka_topic", {"qualifiedName": "t@eu", "name": "t", "topic": "t", "uri": "kafka://t"})
        catalog.upsert_entity(topic)

        down = run_deid("stack", "down", env=env)
        assert down.returncode == 0 and "kafka: stopped" in down.stdout and "catalog: stopped" in down.stdout
        assert "catalog: stopped" in (tmp_path / "catalog" / "catalog.log").read_text()  # a graceful exit
        assert run_deid("stack", "status", env=env).returncode == 3
        assert "was not running" in run_deid("stack", "down", env=env).stdout

        second_up = run_deid("stack", "up", env=env)
        assert second_up.returncode == 0, second_up.stdout + second_up.stderr
        listed = run_deid("topics", "list", env=env)
        assert "channel-raw-data" in listed.stdout, "topics must survive down/up"
        assert catalog.find_entity("kafka_topic", "t@eu") is not None, "catalog entities must survive down/up"

        # A crashed catalog (kill -9): status says so, up restarts it.
        catalog_pid = int((tmp_path / "catalog" / "catalog.pid").read_text())
        os.kill(catalog_pid, signal.SIGKILL)
        _wait_gone(catalog_pid)
        crashed = run_deid("stack", "status", env=env)
        assert crashed.returncode == 3 and "catalog: not running" in crashed.stdout
        restarted = run_deid("stack", "up", env=env)
        assert restarted.returncode == 0 and "catalog: started" in restarted.stdout, restarted.stderr

        # A crashed broker (kill -9) leaves a stale pid file: status says so, up recovers.
        pid = int((tmp_path / "kafka-broker" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid)
        assert run_deid("stack", "status", env=env).returncode == 3
        recovered = run_deid("stack", "up", env=env)
        assert recovered.returncode == 0 and "started" in recovered.stdout, recovered.stderr
        assert "channel-raw-data" in run_deid("topics", "list", env=env).stdout

        # Once a domain's policy is published, `up` starts its worker and `down` stops it (SIGTERM).
        document = yaml.safe_load((REPO / "pipelines" / "policies" / "channel.yaml").read_text())
        catalog.put_policy_draft("channel", document)
        catalog.publish_policy("channel")
        env["DEID_MASTER_KEY"] = Fernet.generate_key().decode()
        with_worker = run_deid("stack", "up", env=env)
        assert with_worker.returncode == 0, with_worker.stderr
        assert "pipelines: started channel;" in with_worker.stdout
        workers = json.loads(run_deid("stack", "status", "--json", env=env).stdout)["pipelines"]
        assert workers["running"] and "channel (pid " in workers["detail"]
        stopped = run_deid("stack", "down", env=env)
        assert "pipelines: stopped channel" in stopped.stdout, stopped.stdout + stopped.stderr
        assert "running policy v1" in (tmp_path / "pipelines" / "pipeline-channel.log").read_text()
    finally:
        run_deid("stack", "down", env=env)


def test_port_already_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_deid("stack", "up", env=stack_env(tmp_path, port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_missing_java(tmp_path: Path) -> None:
    env = stack_env(tmp_path, JAVA_HOME=str(tmp_path / "no-jdk"), PATH=str(Path(sys.executable).parent))
    result = run_deid("stack", "up", env=env)
    assert result.returncode == 1
    assert "no `java` was found" in result.stderr


def test_old_java_is_refused(tmp_path: Path) -> None:
    # No Java 8 here to run: a stand-in that answers `-version` as Java 8 does.
    fake = tmp_path / "jdk8" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_392\"' >&2\n")
    fake.chmod(0o755)
    result = run_deid("stack", "up", env=stack_env(tmp_path, JAVA_HOME=str(tmp_path / "jdk8")))
    assert result.returncode == 1
    assert "Kafka needs Java 17+" in result.stderr and "Java 8" in result.stderr


def test_kafka_not_installed(tmp_path: Path) -> None:
    result = run_deid("stack", "up", env=stack_env(tmp_path, DEID_KAFKA_HOME=str(tmp_path / "empty")))
    assert result.returncode == 1
    assert "Kafka is not installed" in result.stderr and "scripts/install-kafka" in result.stderr


def test_non_loopback_bootstrap_is_refused(tmp_path: Path) -> None:
    result = run_deid("stack", "up", env=stack_env(tmp_path, DEID_KAFKA_BOOTSTRAP="kafka.example:9092"))
    assert result.returncode == 1
    assert "only listens on loopback" in result.stderr


def test_catalog_address_is_checked_before_anything_starts(tmp_path: Path) -> None:
    remote = run_deid("stack", "up", env=stack_env(tmp_path, DEID_CATALOG_URL="http://catalog.example:21000"))
    assert remote.returncode == 1
    assert "the embedded catalog only serves http on loopback" in remote.stderr
    assert not (tmp_path / "kafka-broker" / "kafka.pid").exists(), "Kafka must not start when the catalog cannot"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = run_deid("stack", "up", env=stack_env(tmp_path, DEID_CATALOG_URL=f"http://127.0.0.1:{port}"))
    assert taken.returncode == 1 and f"port {port} on 127.0.0.1 is already in use" in taken.stderr
    assert "DEID_CATALOG_URL" in taken.stderr and not (tmp_path / "kafka-broker" / "kafka.pid").exists()
