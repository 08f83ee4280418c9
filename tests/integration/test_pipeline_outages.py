"""The worker when what it depends on fails: the broker killed with -9, the catalog down, the keystore
unreachable, a dead worker in a group of two. Each part is real (a broker process of the test's own, the
catalog server stopped and started again, a PostgreSQL keystore stopped), and each test is bounded in time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import TopicPartition

from deid.events import EVENT_ID_HEADER
from deid.kafka import make_consumer
from deid.stack.kafka_broker import EmbeddedKafka
from tests.catalog_support import CatalogServer, PostgresCluster, start_catalog
from tests.conftest import Broker, isolated_settings
from tests.integration.pipeline_support import (
    PipelineEnv,
    avro_decoder,
    headers_of,
    pipeline_env,
    read_topic,
    registry,
)

pytestmark = pytest.mark.kafka



def _committed(env: PipelineEnv, partitions: int, group: str | None = None) -> int:
    consumer = make_consumer(env.settings, group or f"deid-pipeline-{env.name}")
    try:
        offsets = consumer.committed([TopicPartition(env.domain.raw_topic, p) for p in range(partitions)], timeout=10)
        return sum(max(0, tp.offset) for tp in offsets)
    except Exception:  # the broker is restarting: not known yet
        return -1
    finally:
        consumer.close()


def _wait_for(
    condition: Callable[[], Any], what: str, timeout: float, worker: subprocess.Popen[str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.returncode}) waiting for {what}: {worker.communicate()}")
        time.sleep(0.2)
    if worker is not None:  # say what the worker said
        worker.kill()
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}: {worker.communicate()[1][-3000:]}")
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _stop(worker: subprocess.Popen[str]) -> tuple[str, str]:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()


def _ids(env: PipelineEnv, topic: str) -> Counter[str]:
    return Counter(headers_of(m)[EVENT_ID_HEADER] for m in read_topic(env.settings, topic))


def test_a_dead_worker_in_a_group_of_two_hands_its_partitions_over(
    kafka: Broker, tmp_path: Path, registry_url: str
) -> None:
    """kill -9, never restarted: the survivor takes its partitions once the 10 s session times out (README)."""
    env = pipeline_env(kafka, "channel", tmp_path, registry_url, partitions=2)
    args = ["--policy-file", str(env.policy_file()), "--policy-poll", "1"]
    first, second = env.start(*args, "--instance-id", "a"), env.start(*args, "--instance-id", "b")
    try:
        ids = env.produce(2000, seed=3)
        _wait_for(lambda: _committed(env, 2) == 2000, "both workers to catch up", 60, second)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        killed = time.monotonic()
        ids += env.produce(2000, seed=4)  # keyed by subject: half of them to the dead worker's partition
        _wait_for(lambda: _committed(env, 2) == 4000, "the survivor to take over", 30, second)
        took_over = time.monotonic() - killed
        _stdout, stderr = _stop(second)
    finally:
        for worker in (first, second):
            if worker.poll() is None:
                worker.kill()
    assert second.returncode == 0, stderr
    assert took_over < 30  # the bound the README states: session timeout (10 s) + a rebalance
    print(f"the survivor had every record committed {took_over:.1f}s after the kill")
    assert set(_ids(env, env.domain.anonymised_topic)) == set(ids)  # nothing lost (at-least-once)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[Broker, EmbeddedKafka]]:
    """A broker of this test's own (the session's is shared): it gets killed."""
    settings = isolated_settings(tmp_path / "own-kafka")
    broker = EmbeddedKafka(settings)
    broker.start(timeout=120)
    try:
        yield Broker(settings, settings.kafka_bootstrap), broker
    finally:
        broker.stop()


def test_broker_killed_with_9_during_exactly_once(own_broker: tuple[Broker, EmbeddedKafka], tmp_path: Path) -> None:
    kafka, broker = own_broker
    with registry(tmp_path) as registry_url:
        env = pipeline_env(kafka, "channel", tmp_path, registry_url)
        total = 20_000
        ids = env.produce(total, seed=9)
        worker = env.start("--policy-file", str(env.policy_file()), "--exactly-once", "--batch-size", "500")
        try:
            _wait_for(lambda: _committed(env, 1) >= 2000, "the first transactions", 90, worker)
            pid = broker.process.pid()
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            _wait_for(lambda: broker.process.pid() is None, "the broker to die", 10)
            time.sleep(3)  # the worker meets a dead broker for a while
            broker.start(timeout=120)
            restarted = time.monotonic()
            _wait_for(lambda: _committed(env, 1) == total, "the worker to resume by itself", 120, worker)
            resumed = time.monotonic()
            _stdout, stderr = _stop(worker)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert worker.returncode == 0, stderr
        counts = _ids(env, env.domain.anonymised_topic)
        assert set(counts) == set(ids)  # 0 lost
        assert max(counts.values()) == 1 and sum(counts.values()) == total  # 0 duplicated (read_committed)
        print(f"broker down {restarted - killed:.1f}s; all committed {resumed - restarted:.1f}s after the restart")


CATALOG_DOWN_SECONDS = 60.0
"""How long the catalog stays down: a minute, as issue 19 asks (every policy check and lineage retry in that
time must fail without stopping the stream)."""


def test_catalog_down_mid_run(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    """The stream goes on with the compiled policy, lineage is retried, a newer policy is picked up after."""
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    catalog = start_catalog(tmp_path / "catalog", domains={env.name: env.definition})
    port = int(catalog.url.rsplit(":", 1)[1])
    env.catalog_env = catalog.env("steward")
    steward = catalog.client("steward")
    steward.put_policy_draft(env.name, yaml.safe_load(env.policy_file().read_text()))
    assert steward.publish_policy(env.name)["version"] == 1
    worker = env.start("--policy-poll", "1")
    try:
        before = env.produce(30, seed=1)
        _wait_for(lambda: len(_ids(env, env.domain.anonymised_topic)) == 30, "output before the outage", 60, worker)
        catalog.stop()
        down = time.monotonic()
        during = env.produce(30, seed=2)
        # A field no rule covers: dropped, and its report to the catalog waits for the catalog.
        env.produce_raw([json.dumps({**env.raw_values[during[0]], "loyalty_tier": "gold"}).encode()], prefix="new")
        _wait_for(lambda: len(_ids(env, env.domain.anonymised_topic)) == 61, "output while it is down", 60, worker)
        time.sleep(max(0.0, CATALOG_DOWN_SECONDS - (time.monotonic() - down)))
        assert worker.poll() is None
        catalog = start_catalog_again(catalog, port)
        _wait_for(lambda: _uncovered_reported(catalog, env.name), "the uncovered field reported after", 60, worker)
        steward = catalog.client("steward")
        steward.set_policy_rule(env.name, "tv_show", {"treatment": "redact"})
        assert steward.publish_policy(env.name)["version"] == 2
        time.sleep(3)  # a few policy polls
        after = env.produce(20, seed=3)
        _wait_for(lambda: len(_ids(env, env.domain.anonymised_topic)) == 81, "output after the outage", 60, worker)
        _stdout, stderr = _stop(worker)
        pipeline = catalog_entity(catalog, env.name)
    finally:
        if worker.poll() is None:
            worker.kill()
        catalog.stop()
    assert worker.returncode == 0, stderr
    assert "not reachable" in stderr  # the outage was seen, and said so in one line per check
    decode = avro_decoder(env.registry_url)
    out = read_topic(env.settings, env.domain.anonymised_topic)
    by_id = {headers_of(m)[EVENT_ID_HEADER]: (headers_of(m)["policy_version"], decode(m.value())) for m in out}
    assert all(by_id[e][0] == "1" for e in before + during)  # de-identified during the outage, with v1
    assert all(by_id[e][1]["user_id"] != env.raw_values[e]["user_id"] for e in before + during)
    assert all(by_id[e][0] == "2" and by_id[e][1]["tv_show"] == "REDACTED_CONTENT" for e in after)
    assert pipeline["attributes"]["policyVersion"] == 2 and pipeline["attributes"]["state"] == "stopped"


def start_catalog_again(stopped: CatalogServer, port: int) -> CatalogServer:
    """The same catalog (data dir, database, users) served again on its old port."""
    return CatalogServer(stopped.settings).start(port)


def _uncovered_reported(catalog: CatalogServer, domain: str) -> bool:
    events = catalog.client("admin").audit_feed(action="UNCOVERED_FIELDS", limit=1000)["events"]
    return any(domain in json.dumps(event) and "loyalty_tier" in json.dumps(event) for event in events)


def catalog_entity(catalog: CatalogServer, domain: str) -> dict[str, Any]:
    found = catalog.client("steward").find_entity("deid_pipeline", f"deid-pipeline-{domain}@{catalog.settings.cluster}")
    assert found is not None
    return found


def test_keystore_unreachable_records_wait_never_out_in_clear(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    """Per-subject keys in PostgreSQL; the database stopped: records of new subjects wait, none goes out."""
    cluster = PostgresCluster().start()
    try:
        keystore_url = cluster.create_database("keys")
        env = pipeline_env(kafka, "channel", tmp_path, registry_url)
        policy = env.policy_file(edit=lambda d: d["rules"].update(
            {"user_id": {"treatment": "encrypt", "params": {"key_scope": "subject"}}}))  # fmt: skip
        worker = subprocess.Popen(
            [*env.start_command(), "--policy-file", str(policy), "--policy-poll", "1"],
            env=env.env(DEID_KEYSTORE_URL=keystore_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            before = env.produce(20, seed=1)
            _wait_for(lambda: len(_ids(env, env.domain.anonymised_topic)) == 20, "output", 60, worker)
            cluster.pause()
            waiting = env.produce(40, seed=2)  # other subjects: their keys do not exist yet
            time.sleep(6)  # several attempts
            assert len(_ids(env, env.domain.anonymised_topic)) == 20  # they wait
            assert len(read_topic(env.settings, env.domain.dlq_topic)) == 0
            cluster.resume()
            _wait_for(lambda: len(_ids(env, env.domain.anonymised_topic)) == 60, "output after", 60, worker)
            _stdout, stderr = _stop(worker)
        finally:
            if worker.poll() is None:
                worker.kill()
    finally:
        cluster.stop()
    assert worker.returncode == 0, stderr
    assert "the keystore did not give this batch its per-subject keys" in stderr
    decode = avro_decoder(env.registry_url)
    raw_subjects = {env.raw_values[e]["user_id"] for e in before + waiting}
    for msg in read_topic(env.settings, env.domain.anonymised_topic):
        record = decode(msg.value())
        assert record["user_id"] not in raw_subjects and "user-" not in json.dumps(record)
