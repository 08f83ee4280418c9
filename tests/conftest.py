"""Shared fixtures. Tests use real parts: a real Kafka broker started once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deid.settings import ENV_PREFIX, Settings, load_settings
from deid.stack.kafka_broker import EmbeddedKafka
from deid.stack.process import free_port
from tests.catalog_support import CatalogServer, PostgresCluster, start_catalog

REPO = Path(__file__).resolve().parent.parent


def _outer_kafka_home() -> Path:
    """Where scripts/install-kafka put the jars for this checkout (before tests change DEID_*)."""
    return load_settings().kafka_install_dir.resolve()


KAFKA_HOME = _outer_kafka_home()


@pytest.fixture(autouse=True)
def _clean_deid_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the defaults: no DEID_* variable leaks in from the caller."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def deid_env(**extra: str) -> dict[str, str]:
    """This process's environment without any DEID_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(extra)
    return env


def stack_env(data_dir: Path, port: int | None = None, **extra: str) -> dict[str, str]:
    """Environment for a private embedded stack in `data_dir` on free loopback ports."""
    return deid_env(
        **{
            "DEID_DATA_DIR": str(data_dir),
            "DEID_KAFKA_HOME": str(KAFKA_HOME),
            "DEID_KAFKA_BOOTSTRAP": f"127.0.0.1:{port or free_port()}",
            "DEID_KAFKA_CONTROLLER_PORT": str(free_port()),
            "DEID_KAFKA_HEAP": "512m",
            "DEID_CATALOG_URL": f"http://127.0.0.1:{free_port()}",
            **extra,
        }
    )


@dataclass
class Broker:
    settings: Settings
    bootstrap: str

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `deid` subprocess talking to this broker."""
        return deid_env(
            **{
                "DEID_KAFKA_BOOTSTRAP": self.bootstrap,
                "DEID_DATA_DIR": str(self.settings.data_dir),
                "DEID_KAFKA_HOME": str(KAFKA_HOME),
                "DEID_KAFKA_CONTROLLER_PORT": str(self.settings.kafka_controller_port),
                **extra,
            }
        )

    def new_topic(self, partitions: int = 1, prefix: str = "t") -> str:
        """A fresh, uniquely named topic on this broker (auto-creation is off, as in production)."""
        from confluent_kafka.admin import NewTopic

        from deid.kafka import make_admin

        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        admin = make_admin(self.settings)  # keep a reference: the future dies with the client
        admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)
        return name


def isolated_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a private embedded broker on free loopback ports."""
    values: dict[str, object] = {
        "kafka_bootstrap": f"127.0.0.1:{free_port()}",
        "kafka_controller_port": free_port(),
        "data_dir": data_dir,
        "kafka_home": KAFKA_HOME,
        "kafka_heap": "512m",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real single-node Kafka broker for the whole test session."""
    settings = isolated_settings(tmp_path_factory.mktemp("kafka-session"))
    broker = EmbeddedKafka(settings)
    broker.start(timeout=120)
    try:
        yield Broker(settings, settings.kafka_bootstrap)
    finally:
        broker.stop()


def run_deid(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "deid", *args],
        env=deid_env() if env is None else env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster for the whole session (started on first use)."""
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogServer]:
    """A real catalog server for the session, once per store backend (tests using it run on both)."""
    data_dir = tmp_path_factory.mktemp(f"catalog-{request.param}")
    database = None
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres").create_database("catalog_session")
    server = start_catalog(data_dir, database)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogServer]:
    """One real catalog (SQLite) for tests that need a catalog beside other parts, not the catalog itself."""
    server = start_catalog(tmp_path_factory.mktemp("catalog-aside"))
    try:
        yield server
    finally:
        server.stop()
