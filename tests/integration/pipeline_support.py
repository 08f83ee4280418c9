"""Helpers for pipeline tests: a private copy of a seed domain, its events, a registry, reading topics back."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import requests
import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from cryptography.fernet import Fernet

from deid.domains import Domain, _builtin_document, build_registry
from deid.events import EVENT_ID_HEADER
from deid.kafka import make_consumer, make_producer
from deid.settings import Settings
from deid.topics import create_domain_topics
from producers.produce import produce_events, producer_overrides
from producers.registry import generator_class
from producers.sources import generated_events
from tests.catalog_support import CatalogServer
from tests.conftest import REPO, Broker
from tests.integration.registry_server import serve_registry

POLICIES = REPO / "pipelines" / "policies"


@dataclass
class PipelineEnv:
    """A private copy of a seed domain (own topics), a keystore dir, a registry: what a worker run needs."""

    kafka: Broker
    base: str
    domain: Domain
    config: Path
    data_dir: Path
    master_key: str
    registry_url: str
    raw_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Event id → raw record, for every event produced."""
    catalog_env: dict[str, str] = field(default_factory=dict)
    """DEID_CATALOG_* of the catalog the `deid` subprocesses use (none: lineage is only logged)."""

    @property
    def name(self) -> str:
        return self.domain.name

    @property
    def settings(self) -> Settings:
        return self.kafka.settings

    def env(self, **extra: str | None) -> dict[str, str]:
        """Environment for a `deid` subprocess on this copy; an `extra` value of None removes the variable."""
        env = self.kafka.env(
            DEID_CONFIG=str(self.config),
            DEID_DATA_DIR=str(self.data_dir),
            DEID_MASTER_KEY=self.master_key,
            DEID_SCHEMA_REGISTRY_URL=self.registry_url,
            **self.catalog_env,
        )
        env.update({k: v for k, v in extra.items() if v is not None})
        return {k: v for k, v in env.items() if extra.get(k, "") is not None}

    def worker_settings(self) -> Settings:
        return Settings(
            kafka_bootstrap=self.kafka.bootstrap,
            data_dir=self.data_dir,
            master_key=self.master_key,
            schema_registry_url=self.registry_url,
            domains={self.name: self.definition},
        )

    @property
    def definition(self) -> dict[str, Any]:
        return _builtin_document()["domains"][self.base]

    def policy_file(self, version: int = 1, edit: Any = None, name: str = "policy.yaml") -> Path:
        """The reviewed example policy of the base domain, for this copy (optionally edited)."""
        document = yaml.safe_load((POLICIES / f"{self.base}.yaml").read_text())
        document["domain"], document["version"] = self.name, version
        if edit is not None:
            edit(document)
        path = self.data_dir / name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def produce(self, count: int, seed: int = 1) -> list[str]:
        """`count` generated events to the raw topic; their event ids."""
        generator = generator_class(build_registry().get(self.base))(self.domain, seed)
        events = list(generated_events(generator, count, self.domain.subject_field))
        producer = make_producer(self.settings, **producer_overrides(self.settings))
        stats = produce_events(producer, self.domain.raw_topic, events)
        assert stats.delivered == count, stats.errors
        for event in events:
            self.raw_values[event.event_id] = json.loads(event.value)
        return [e.event_id for e in events]

    def produce_raw(self, values: list[bytes | None], prefix: str = "raw") -> list[str]:
        """Arbitrary raw values (malformed ones too), each with an event id; their ids."""
        producer = make_producer(self.settings)
        ids = []
        for n, value in enumerate(values):
            event_id = f"{prefix}:{n}"
            producer.produce(self.domain.raw_topic, value, headers=[(EVENT_ID_HEADER, event_id.encode())])
            ids.append(event_id)
            if n % 1000 == 0:
                producer.poll(0)
        assert producer.flush(30) == 0
        return ids

    def start_command(self) -> list[str]:
        return [sys.executable, "-m", "deid", "pipeline", "run", self.name]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.start_command(), *args],
            env=self.env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*self.start_command(), *args],
            env=self.env(),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@contextmanager
def registry(tmp_path: Path) -> Iterator[str]:
    with serve_registry(tmp_path / "registry.db") as url:
        yield url


def pipeline_env(
    kafka: Broker,
    base: str,
    tmp_path: Path,
    registry_url: str,
    partitions: int = 1,
    catalog: CatalogServer | None = None,
) -> PipelineEnv:
    name = f"{base}_{uuid.uuid4().hex[:8]}"
    definition = _builtin_document()["domains"][base]
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"domains": {name: definition}}))
    domain = build_registry({name: definition}).get(name)
    from deid.kafka import make_admin

    create_domain_topics(make_admin(kafka.settings), [domain], partitions=partitions)
    data_dir = tmp_path / f"data-{name}"
    data_dir.mkdir()
    master_key = Fernet.generate_key().decode()
    catalog_env = catalog.env("steward") if catalog is not None else {}
    return PipelineEnv(kafka, base, domain, config, data_dir, master_key, registry_url, catalog_env=catalog_env)


def read_topic(settings: Settings, topic: str, committed_only: bool = True, timeout: float = 30) -> list[Message]:
    """Every record in `topic` up to its current end (read_committed unless told otherwise)."""
    consumer: Consumer = make_consumer(
        settings,
        f"test-read-{uuid.uuid4().hex[:8]}",
        **{"isolation.level": "read_committed" if committed_only else "read_uncommitted", "enable.partition.eof": True},
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.partitions]
        consumer.assign(partitions)
        pending = {tp.partition for tp in partitions}
        records: list[Message] = []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 0.5):
                if msg.error() is None:
                    records.append(msg)
                elif msg.error().code() == msg.error()._PARTITION_EOF:
                    pending.discard(msg.partition())
        assert not pending, f"{topic}: partitions {pending} not read to the end within {timeout}s"
        return records
    finally:
        consumer.close()


def headers_of(msg: Message) -> dict[str, str]:
    return {k: v.decode() for k, v in msg.headers() or [] if v is not None}


def avro_decoder(registry_url: str) -> Any:
    """Confluent-framed Avro → dict, the writer schema fetched from the registry by id."""
    schemas: dict[int, Any] = {}

    def decode(value: bytes) -> dict[str, Any]:
        assert value[0] == 0
        schema_id = int.from_bytes(value[1:5], "big")
        if schema_id not in schemas:
            body = requests.get(f"{registry_url}/schemas/ids/{schema_id}", timeout=10).json()
            schemas[schema_id] = fastavro.parse_schema(json.loads(body["schema"]))
        return fastavro.schemaless_reader(io.BytesIO(value[5:]), schemas[schema_id], None)  # type: ignore[return-value]

    return decode
