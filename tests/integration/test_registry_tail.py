"""Avro records through a real topic: produced with AvroSerializer against the registry, consumed with
AvroDeserializer, and read back decoded by `deid tail`; unknown ids and an unreachable registry give markers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from deid.kafka import make_consumer, make_producer
from deid.stack.process import free_port
from tests.conftest import Broker, run_deid
from tests.integration.registry_server import serve_registry

pytestmark = pytest.mark.kafka

PURCHASE = {
    "type": "record",
    "name": "Purchase",
    "namespace": "deid.movie",
    "fields": [
        {"name": "user_id", "type": "string"},
        {"name": "price", "type": "double"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "genres", "type": {"type": "array", "items": "string"}},
        {"name": "card_token", "type": ["null", "bytes"], "default": None},
    ],
}
RECORDS = [
    {
        "user_id": f"user-{n:05d}",
        "price": 9.5 + n,
        "at": datetime(2024, 5, 1, 12, n, tzinfo=UTC),
        "genres": ["drama"] * n,
        "card_token": bytes([n, 255]) if n % 2 else None,
    }
    for n in range(3)
]
UNKNOWN_ID = 987_654


def as_tail_prints(record: dict) -> dict:
    token = record["card_token"]
    expected_token = {"$base64": base64.b64encode(token).decode()} if token else None
    return {**record, "at": record["at"].isoformat(), "card_token": expected_token}


def produce(broker: Broker, topic: str, registry_url: str) -> None:
    serializer = AvroSerializer(SchemaRegistryClient({"url": registry_url}), json.dumps(PURCHASE))
    context = SerializationContext(topic, MessageField.VALUE)
    producer = make_producer(broker.settings)
    for record in RECORDS:
        producer.produce(topic, key=record["user_id"].encode(), value=serializer(record, context))
    producer.produce(topic, value=b'{"plain": "json"}')
    producer.produce(topic, value=b"\x00" + UNKNOWN_ID.to_bytes(4, "big") + b"\x02x")
    assert producer.flush(30) == 0


def consume_avro(broker: Broker, topic: str, registry_url: str, count: int) -> list[dict]:
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
    consumer = make_consumer(broker.settings, f"registry-test-{topic}")
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    try:
        while len(values) < count:
            message = consumer.poll(30)
            assert message is not None and message.error() is None
            values.append(deserializer(message.value(), SerializationContext(topic, MessageField.VALUE)))
    finally:
        consumer.close()
    return values


def tail(broker: Broker, topic: str, registry_url: str) -> list:
    result = run_deid(
        "tail",
        topic,
        "--from-beginning",
        "--max",
        str(len(RECORDS) + 2),
        "--timeout",
        "60",
        env=broker.env(DEID_SCHEMA_REGISTRY_URL=registry_url),
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_avro_round_trip_and_deid_tail_decodes_through_the_registry(kafka: Broker, tmp_path: Path) -> None:
    topic = kafka.new_topic(prefix="movie-anonymised")
    with serve_registry(tmp_path / "registry.db") as registry_url:
        produce(kafka, topic, registry_url)
        assert consume_avro(kafka, topic, registry_url, len(RECORDS)) == RECORDS
        printed = tail(kafka, topic, registry_url)

    assert printed[: len(RECORDS)] == [as_tail_prints(r) for r in RECORDS]
    assert printed[len(RECORDS)] == {"plain": "json"}
    unknown = printed[-1]["$confluent_avro"]
    assert unknown["schema_id"] == UNKNOWN_ID
    assert unknown["error"] == f"schema {UNKNOWN_ID} is not in the schema registry"

    # the registry is gone now: every Avro record says so, and tail still succeeds
    gone = tail(kafka, topic, f"http://127.0.0.1:{free_port()}/registry")
    assert gone[len(RECORDS)] == {"plain": "json"}
    for marker in gone[: len(RECORDS)] + gone[-1:]:
        assert "the schema registry is unreachable" in marker["$confluent_avro"]["error"]
        assert marker["$confluent_avro"]["base64"]
