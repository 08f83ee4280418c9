"""Against the real session broker: client factory, topics, tail, Kafka's own console consumer."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from deid.domains import load_registry
from deid.kafka import make_admin, make_consumer, make_producer
from deid.topics import create_domain_topics, list_topics
from tests.conftest import REPO, Broker, run_deid

pytestmark = pytest.mark.kafka


def _produce(
    broker: Broker,
    topic: str,
    records: list[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = make_producer(broker.settings, **{"enable.idempotence": True})
    failures: list[object] = []
    for key, value in records:
        producer.produce(
            topic, value, key, headers=headers, on_delivery=lambda err, _msg: failures.append(err) if err else None
        )
    assert producer.flush(30) == 0
    assert failures == []


def test_produce_and_consume_round_trip(kafka: Broker) -> None:
    topic = kafka.new_topic(3)
    sent = [(f"user-{i:05d}".encode(), json.dumps({"n": i}).encode()) for i in range(50)]
    _produce(kafka, topic, sent)
    consumer = make_consumer(kafka.settings, f"g-{uuid.uuid4().hex}", **{"auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    received = []
    try:
        while len(received) < len(sent):
            batch = consumer.consume(num_messages=100, timeout=10)
            assert batch, "no records within 10 s"
            for message in batch:
                assert message.error() is None
                received.append((message.key(), message.value()))
    finally:
        consumer.close()
    assert sorted(received) == sorted(sent)


def test_topics_create_is_idempotent(kafka: Broker) -> None:
    admin = make_admin(kafka.settings)
    domains = load_registry().select(["channel", "movie"])
    first = create_domain_topics(admin, domains, partitions=2)
    assert {r.topic for r in first} == {
        "channel-raw-data",
        "channel-anonymised-data",
        "channel-dlq",
        "movie-raw-data",
        "movie-anonymised-data",
        "movie-dlq",
    }
    second = create_domain_topics(admin, domains, partitions=2)
    assert {r.status for r in second} == {"exists"}
    topics = list_topics(admin)
    assert topics["channel-raw-data"] == 2


def test_cli_topics_create_all_and_list(kafka: Broker) -> None:
    created = run_deid("topics", "create", "--all", "--partitions", "1", env=kafka.env())
    assert created.returncode == 0, created.stderr
    again = run_deid("topics", "create", "--all", env=kafka.env())
    assert again.returncode == 0
    assert "created" not in again.stdout
    listed = run_deid("topics", "list", env=kafka.env())
    for domain in load_registry():
        for topic in domain.topics:
            assert topic in listed.stdout


def test_tail_from_beginning_with_meta(kafka: Broker) -> None:
    topic = kafka.new_topic()
    _produce(
        kafka, topic, [(b"user-00001", b'{"tv_show": "Barry"}'), (None, b"plain text")], headers=[("event_id", b"e-1")]
    )
    result = run_deid("tail", topic, "--from-beginning", "--max", "2", "--with-meta", env=kafka.env())
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {
        "key": "user-00001",
        "headers": {"event_id": "e-1"},
        "partition": 0,
        "offset": 0,
        "value": {"tv_show": "Barry"},
    }
    assert lines[1]["value"] == "plain text" and lines[1]["key"] is None
    assert "2 record(s)" in result.stderr


def test_tail_stops_after_timeout_without_records(kafka: Broker) -> None:
    topic = kafka.new_topic()
    _produce(kafka, topic, [(None, b'{"a": 1}')])
    result = run_deid("tail", topic, "--from-beginning", "--timeout", "3", env=kafka.env())
    assert result.returncode == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"a": 1}]


def test_tail_without_from_beginning_skips_old_records(kafka: Broker) -> None:
    topic = kafka.new_topic()
    _produce(kafka, topic, [(None, b'{"old": true}')])
    result = run_deid("tail", topic, "--timeout", "2", env=kafka.env())
    assert result.returncode == 0
    assert result.stdout == ""


def test_tail_unknown_topic(kafka: Broker) -> None:
    result = run_deid("tail", "no-such-topic", "--timeout", "1", env=kafka.env())
    assert result.returncode == 1
    assert "topic 'no-such-topic' does not exist" in result.stderr


def test_kafka_console_consumer_script(kafka: Broker) -> None:
    topic = kafka.new_topic()
    _produce(kafka, topic, [(None, b'{"hello": "kafka"}')])
    result = subprocess.run(
        [
            str(REPO / "scripts" / "kafka-console-consumer"),
            "--bootstrap-server",
            kafka.bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            "1",
            "--timeout-ms",
            "30000",
        ],
        env=kafka.env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == '{"hello": "kafka"}'


def test_create_kafka_topics_script(kafka: Broker) -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "create-kafka-topics.sh"), "--domain", "memo"],
        env=kafka.env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "memo-raw-data" in list_topics(make_admin(kafka.settings))


def test_out_side_uses_its_own_bootstrap(kafka: Broker) -> None:
    # Raw side points nowhere; the out side is the real broker: --out must reach it, the default must not.
    env = kafka.env(DEID_KAFKA_BOOTSTRAP="127.0.0.1:1", DEID_KAFKA_BOOTSTRAP_OUT=kafka.bootstrap)
    checked = run_deid("stack", "check", "--out", env=env)
    assert checked.returncode == 0, checked.stderr
    probe = json.loads(checked.stdout)["value"]["probe"]
    tailed = run_deid("tail", "deid-stack-check", "--out", "--from-beginning", "--timeout", "3", env=env)
    assert probe in tailed.stdout
    raw = run_deid("tail", "deid-stack-check", "--timeout", "1", env=env)
    assert raw.returncode == 1 and "DEID_KAFKA_BOOTSTRAP)" in raw.stderr
