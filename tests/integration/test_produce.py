"""`deid produce` against the real session broker: round trips, determinism, replay, failures, truth file."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from deid.domains import load_registry
from deid.events import event_id_of
from deid.kafka import make_admin, make_consumer
from producers.memo import labelled_memos
from tests.benchmarks import bench_produce
from tests.benchmarks.common import BenchContext
from tests.conftest import REPO, Broker, run_deid

pytestmark = pytest.mark.kafka
REGISTRY = load_registry()
FIXTURE = REPO.parent / "shared" / "fixtures" / "channel_seed_events.jsonl"
SUMMARY = re.compile(r": (\d+) events, (\d+) delivered, (\d+) failed")
Record = tuple[str | None, bytes | None, bytes]  # (event id, key, value)


def new_topic(broker: Broker, **config: str) -> str:
    topic = f"produce-test-{uuid.uuid4().hex[:10]}"
    admin = make_admin(broker.settings)  # kept alive until the topic exists
    admin.create_topics([NewTopic(topic, 2, 1, config=config)])[topic].result(timeout=30)
    return topic


def read(broker: Broker, topic: str, expected: int, start: dict[int, int] | None = None) -> list[Record]:
    """Every record of `topic` (from `start` offsets per partition, else the beginning), `expected` of them
    awaited; each partition's records in order."""
    consumer = make_consumer(broker.settings, f"test-{uuid.uuid4().hex}")
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, (start or {}).get(p, OFFSET_BEGINNING)) for p in partitions])
    records: list[Record] = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                assert message.error() is None, message.error()
                records.append((event_id_of(message.headers()), message.key(), message.value()))
        for message in consumer.consume(500, timeout=0.5):  # nothing beyond what was expected
            records.append((event_id_of(message.headers()), message.key(), message.value()))
    finally:
        consumer.close()
    return records


def produce(broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    return run_deid("produce", *args, env=broker.env())


def summary(result: subprocess.CompletedProcess[str]) -> tuple[int, int, int]:
    match = SUMMARY.search(result.stdout)
    assert match, (result.stdout, result.stderr)
    produced, delivered, failed = map(int, match.groups())
    return produced, delivered, failed


@pytest.mark.parametrize("name", sorted(REGISTRY.names))
def test_each_domain_round_trips(kafka: Broker, name: str) -> None:
    domain = REGISTRY.get(name)
    topic = new_topic(kafka)
    result = produce(kafka, name, "--count", "40", "--seed", "5", "--topic", topic)
    assert result.returncode == 0, result.stderr
    assert summary(result) == (40, 40, 0)
    records = read(kafka, topic, 40)
    assert len(records) == 40
    assert {event_id for event_id, _, _ in records} == {f"gen:{name}:5:{n}" for n in range(40)}
    for event_id, key, value in records:
        event = json.loads(value)
        assert isinstance(event, dict) and list(event) == list(domain.fields)
        subject = event[domain.subject_field] if domain.subject_field else event_id
        assert key is not None and key.decode() == str(subject)


def test_same_seed_gives_identical_payloads_and_ids(kafka: Broker) -> None:
    runs = []
    for _ in range(2):
        topic = new_topic(kafka)
        assert produce(kafka, "clickstream", "-n", "60", "--seed", "9", "--topic", topic).returncode == 0
        runs.append(sorted(read(kafka, topic, 60), key=lambda r: str(r[0])))
    assert len(runs[0]) == 60 and runs[0] == runs[1]


def test_rate_and_key_field_options(kafka: Broker) -> None:
    topic = new_topic(kafka)
    result = produce(kafka, "movie", "-n", "30", "--rate", "500", "--key-field", "card_number", "--topic", topic)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\(seed \d+\)", result.stdout)  # a random seed, printed so the run can be repeated
    for _, key, value in read(kafka, topic, 30):
        assert key == json.loads(value)["card_number"].encode()


def test_seed_fixture_replays_into_channel_raw_data(kafka: Broker) -> None:
    topic = REGISTRY.get("channel").raw_topic
    admin = make_admin(kafka.settings)
    start: dict[int, int] = {}
    if topic in admin.list_topics(timeout=10).topics:  # other tests may have written to it before
        consumer = make_consumer(kafka.settings, "watermarks")
        for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            start[partition] = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
        consumer.close()
    result = produce(kafka, "channel", "--from-file", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert summary(result) == (16, 16, 0) and "0 bad lines skipped" in result.stdout
    records = read(kafka, topic, 16, start)
    digest = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()[:16]
    lines = FIXTURE.read_bytes().splitlines()
    assert sorted(records, key=lambda r: int(str(r[0]).rsplit(":", 1)[1])) == [
        (f"file:{digest}:{n}", json.loads(line)["user_id"].encode(), line) for n, line in enumerate(lines, start=1)
    ]


def test_replay_reports_and_counts_bad_lines(kafka: Broker, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    secret = "Jan Kowalski, PL61 1090 1014 0000 0712 1981 2874"
    path.write_bytes(
        b'{"user_id": "user-10001", "tv_show": "Barry"}\n'
        + f"{secret}\n".encode()
        + b'{"user_id": "user-10002"}\n\n["user-10003"]\n\xff\xfe{}\n{"user_id": "user-10003"}'
    )
    topic = new_topic(kafka)
    result = produce(kafka, "channel", "--from-file", str(path), "--topic", topic)
    assert result.returncode == 0, result.stderr
    assert summary(result) == (3, 3, 0) and "4 bad lines skipped" in result.stdout
    assert f"{path}:2: skipped: not valid JSON" in result.stderr
    assert f"{path}:4: skipped: empty line" in result.stderr
    assert f"{path}:5: skipped: a JSON array, not an object" in result.stderr
    assert f"{path}:6: skipped: not" in result.stderr
    assert "Kowalski" not in result.stderr + result.stdout and "user-10003" not in result.stderr
    assert len(read(kafka, topic, 3)) == 3


def test_failed_deliveries_exit_1_with_the_count(kafka: Broker) -> None:
    # The broker refuses record batches over 600 bytes: most memo batches are larger.
    topic = new_topic(kafka, **{"max.message.bytes": "600"})
    result = produce(kafka, "memo", "-n", "30", "--seed", "1", "--topic", topic)
    assert result.returncode == 1, result.stdout + result.stderr
    produced, delivered, failed = summary(result)
    assert produced == 30 and failed > 0 and delivered + failed == 30
    assert f"deid: error: {failed} of 30 events were not delivered: " in result.stderr
    assert "too large" in result.stderr.lower()
    assert len(read(kafka, topic, delivered)) == delivered


def test_endless_run_stops_on_ctrl_c_with_a_summary(kafka: Broker) -> None:
    topic = new_topic(kafka)
    args = [sys.executable, "-m", "deid", "produce", "channel", "-n", "0", "--rate", "200", "--topic", topic]
    process = subprocess.Popen(
        args, env=kafka.env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    consumer = make_consumer(kafka.settings, "watermarks")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:  # until events arrive
            try:
                ends = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in (0, 1)]
            except KafkaException:  # a just-created topic may have no leader yet
                ends = [0]
            if sum(ends) >= 20:
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        consumer.close()
    assert process.returncode == 130, stderr
    produced, delivered, failed = (int(n) for n in SUMMARY.search(stdout).groups())  # type: ignore[union-attr]
    assert produced >= 20 and delivered == produced and failed == 0
    assert "deid: interrupted" in stderr
    assert len(read(kafka, topic, delivered)) == delivered


def test_missing_topic_named_by_option_is_an_error(kafka: Broker) -> None:
    result = produce(kafka, "channel", "-n", "1", "--topic", "no-such-topic-for-produce")
    assert result.returncode == 1
    assert "topic 'no-such-topic-for-produce' does not exist" in result.stderr


def test_truth_file_holds_the_spans_of_each_memo(kafka: Broker, tmp_path: Path) -> None:
    topic = new_topic(kafka)
    truth = tmp_path / "truth.jsonl"
    result = produce(kafka, "memo", "-n", "25", "--seed", "3", "--topic", topic, "--truth-file", str(truth))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in truth.read_text().splitlines()]
    texts = {event_id: json.loads(value)["text"] for event_id, _, value in read(kafka, topic, 25)}
    expected = labelled_memos(25, seed=3)
    assert [row["event_id"] for row in rows] == [f"gen:memo:3:{n}" for n in range(25)]
    for row, (text, spans) in zip(rows, expected, strict=True):
        assert texts[row["event_id"]] == text
        assert [tuple(span) for span in row["spans"]] == spans
    # Offsets and entity names only, never the values themselves.
    assert all(set(map(type, span)) <= {int, str} and len(span) == 3 for row in rows for span in row["spans"])


def test_progress_bar_on_a_terminal(kafka: Broker) -> None:
    topic = new_topic(kafka)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "deid", "produce", "website", "-n", "3000", "--topic", topic],
        env=kafka.env(),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 0
    assert b"\rwebsite [" in shown and b"100%  3,000/3,000 events" in shown
    assert b"3000 delivered" in stdout


def test_bench_runs_quick(tmp_path: Path) -> None:
    result = bench_produce.run(BenchContext(out_dir=tmp_path, quick=True))
    assert result["events"] == 2000 and result["delivered"] == 2000 and result["failed"] == 0
    assert result["generate_eps"] > 0 and result["produce_eps"] > 0 and result["bytes"] > 0
    assert set(result["generate_eps_by_domain"]) == set(REGISTRY.names)  # type: ignore[arg-type]
