"""The worker under faults: malformed input, kill -9, SIGTERM, a policy change while running, metrics, refusals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from deid.events import EVENT_ID_HEADER
from deid.kafka import make_consumer
from deid.stack.process import free_port
from pipelines.dlq import ERROR_CLASSES
from tests.conftest import Broker
from tests.integration.pipeline_support import (
    PipelineEnv,
    avro_decoder,
    headers_of,
    pipeline_env,
    read_topic,
)

pytestmark = pytest.mark.kafka



def _event(**overrides: Any) -> dict[str, Any]:
    base = {"channel_name": "HBO", "tv_show": "Barry", "tv_show_type": "Comedy", "date": "01-02-2023",
            "user_id": "user-12345"}  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


# kind → (raw value, expected dlq_error_class); 1,000 malformed records cycle through these.
MALFORMED: dict[str, tuple[bytes | None, str]] = {
    "truncated JSON": (b'{"channel_name": "HBO", "user_id": "user-1', "invalid_json"),
    "trailing garbage": (json.dumps(_event()).encode() + b"}", "invalid_json"),
    "NaN": (b'{"channel_name": NaN, "user_id": "user-00001"}', "invalid_json"),
    "lone surrogate": (b'{"tv_show": "\\ud800", "user_id": "user-00001"}', "invalid_json"),
    "invalid UTF-8": (b'{"tv_show": "Barr\xff", "user_id": "user-00001"}', "invalid_utf8"),
    "latin-1": ('{"tv_show": "Légendes", "user_id": "user-00001"}'.encode("latin-1"), "invalid_utf8"),
    "array": (b'[{"user_id": "user-00001"}]', "not_object"),
    "string": (b'"user-00001"', "not_object"),
    "null": (b"null", "not_object"),
    "empty": (b"", "empty"),
    "tombstone": (None, "empty"),
    "huge value": (json.dumps(_event(tv_show="x" * 5000)).encode(), "too_large"),
    "date as number": (json.dumps(_event(date=20230201)).encode(), "treatment"),
    "unparseable date": (json.dumps(_event(date="2023-02-01")).encode(), "treatment"),
    "impossible date": (json.dumps(_event(date="31-02-2023")).encode(), "treatment"),
    "user id as object": (json.dumps(_event(user_id={"id": "user-00001"})).encode(), "treatment"),
    "no subject": (json.dumps(_event(user_id=...)).encode(), "treatment"),
    "channel as number": (json.dumps(_event(channel_name=7)).encode(), "encode"),
    "show as list": (json.dumps(_event(tv_show=["Barry"])).encode(), "encode"),
}


def test_malformed_inputs_all_land_in_the_dlq_with_reasons(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    kinds = list(MALFORMED)
    bad_kinds = [kinds[n % len(kinds)] for n in range(1000)]
    values: list[bytes | None] = []
    expected: dict[str, str] = {}  # event id → expected error class
    good: list[str] = []
    for n, kind in enumerate(bad_kinds):
        values.append(MALFORMED[kind][0])
        if n % 5 == 0:  # valid events interleaved: the stream continues around the bad ones
            values.append(json.dumps(_event(user_id=f"user-{n:05d}")).encode())
    ids = env.produce_raw(values, prefix="mixed")
    position = 0  # ids follow the construction order: a valid event after every 5th bad one
    for n, kind in enumerate(bad_kinds):
        expected[ids[position]] = MALFORMED[kind][1]
        position += 1
        if n % 5 == 0:
            good.append(ids[position])
            position += 1

    result = env.run("--policy-file", str(env.policy_file()), "--until-caught-up", "--max-record-bytes", "2000",
                     "--batch-size", "300")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{len(ids)} in, {len(good)} out, 1000 to DLQ" in result.stdout

    dead = read_topic(env.settings, env.domain.dlq_topic)
    assert len(dead) == 1000
    raw_by_offset = {m.offset(): m for m in read_topic(env.settings, env.domain.raw_topic)}
    classes = Counter()
    for msg in dead:
        headers = headers_of(msg)
        event_id = headers[EVENT_ID_HEADER]
        assert headers["dlq_error_class"] == expected[event_id], (event_id, headers)
        assert headers["dlq_error_class"] in ERROR_CLASSES and headers["dlq_reason"]
        assert headers["source_topic"] == env.domain.raw_topic and headers["policy_version"] == "1"
        source = raw_by_offset[int(headers["source_offset"])]
        assert headers_of(source)[EVENT_ID_HEADER] == event_id
        assert msg.value() == source.value()  # kept as it came, for a replay once fixed
        for secret in ("user-00001", "user-12345", "Barry", "Légendes", "20230201", "31-02-2023", "xxxxxxxx"):
            assert secret not in headers["dlq_reason"], headers["dlq_reason"]
        classes[headers["dlq_error_class"]] += 1
    # Every input-side class; too_large_output and refused: tests/integration/test_pipeline_oversized.py
    assert set(classes) == set(ERROR_CLASSES) - {"too_large_output", "refused"}
    treatment = [h for h in map(headers_of, dead) if h["dlq_error_class"] == "treatment"]
    assert all(h["dlq_field"] in {"date", "user_id"} for h in treatment)  # the field at fault, by path
    assert any("has no subject value" in h["dlq_reason"] for h in treatment)
    assert any("does not match the format" in h["dlq_reason"] for h in treatment)
    anonymised = read_topic(env.settings, env.domain.anonymised_topic)
    assert sorted(headers_of(m)[EVENT_ID_HEADER] for m in anonymised) == sorted(good)


def _committed(env: PipelineEnv, partitions: int) -> int:
    consumer = make_consumer(env.settings, f"deid-pipeline-{env.name}")
    try:
        offsets = consumer.committed([TopicPartition(env.domain.raw_topic, p) for p in range(partitions)], timeout=10)
        return sum(max(0, tp.offset) for tp in offsets)
    finally:
        consumer.close()


@pytest.mark.parametrize(
    ("base", "exactly_once"),
    [("clickstream", True), ("channel", False)],
    ids=["exactly-once-with-a-purpose-stream", "at-least-once"],
)
def test_kill_9_mid_stream_then_restart(
    kafka: Broker, tmp_path: Path, registry_url: str, base: str, exactly_once: bool
) -> None:
    env = pipeline_env(kafka, base, tmp_path, registry_url, partitions=2)
    total = 100_000  # the figure: kill -9 in the middle of 100k events
    ids = env.produce(total, seed=5)
    mode = ["--exactly-once"] if exactly_once else []
    args = ["--policy-file", str(env.policy_file()), "--batch-size", "1000", *mode]
    worker = env.start(*args)
    try:
        deadline = time.monotonic() + 120
        while (done := _committed(env, 2)) < total // 5 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        assert worker.poll() is None, worker.communicate()[1]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert total // 5 <= done < total  # killed mid-way

    result = env.run(*args, "--until-caught-up")
    assert result.returncode == 0, result.stderr
    out = read_topic(env.settings, env.domain.anonymised_topic)
    counts = Counter(headers_of(m)[EVENT_ID_HEADER] for m in out)
    assert set(counts) == set(ids)  # nothing lost
    if exactly_once:
        assert max(counts.values()) == 1 and len(out) == total  # nothing duplicated (read_committed)
        # The purpose stream was written in the same transactions: its rows exactly once too.
        purpose = read_topic(env.settings, f"{env.name}-recommender-data")
        qualifying = {e for e, raw in env.raw_values.items() if raw["consent_level"] >= 2}
        purpose_counts = Counter(headers_of(m)[EVENT_ID_HEADER] for m in purpose)
        assert set(purpose_counts) == qualifying and max(purpose_counts.values()) == 1
    assert _committed(env, 2) == total


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.read().decode()


def _wait_for(condition: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_live_worker_switches_policy_serves_metrics_and_stops_on_sigterm(
    kafka: Broker, tmp_path: Path, registry_url: str
) -> None:
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    policy_file = env.policy_file()
    port = free_port()
    worker = env.start("--policy-file", str(policy_file), "--policy-poll", "0.3", "--metrics-port", str(port))
    try:
        first = env.produce(40, seed=1)
        env.produce_raw([json.dumps(_event(extra_secret="s3cr3t-value")).encode()], prefix="extra")
        out = _wait_for(
            lambda: len(m := read_topic(env.settings, env.domain.anonymised_topic)) == 41 and m, "v1 output"
        )
        metrics = _metrics(port)
        domain = f'domain="{env.name}"'
        assert f"deid_pipeline_records_in_total{{{domain}}} 41" in metrics
        assert f'deid_pipeline_records_out_total{{{domain},topic="{env.domain.anonymised_topic}"}} 41' in metrics
        assert f"deid_pipeline_policy_version{{{domain}}} 1" in metrics
        assert f"deid_pipeline_uncovered_fields{{{domain}}} 1" in metrics
        assert re.search(rf"deid_pipeline_batch_seconds_count\{{{domain}\}} [1-9]", metrics)
        assert re.search(rf'deid_pipeline_consumer_lag\{{{domain},partition="0"\}} 0', metrics)
        assert "s3cr3t" not in metrics and "user-" not in metrics
        assert all("extra_secret" not in json.dumps(avro_decoder(env.registry_url)(m.value())) for m in out)

        env.policy_file(version=2, edit=lambda d: d["rules"].update({"tv_show": {"treatment": "redact"}}))
        _wait_for(lambda: "deid_pipeline_policy_version{" + domain + "} 2" in _metrics(port), "policy v2")
        second = env.produce(30, seed=2)
        out = _wait_for(
            lambda: len(m := read_topic(env.settings, env.domain.anonymised_topic)) == 71 and m, "v2 output"
        )
        decode = avro_decoder(env.registry_url)
        by_id = {headers_of(m)[EVENT_ID_HEADER]: (headers_of(m)["policy_version"], decode(m.value())) for m in out}
        assert all(by_id[e][0] == "1" and by_id[e][1]["tv_show"] != "REDACTED_CONTENT" for e in first)
        assert all(by_id[e][0] == "2" and by_id[e][1]["tv_show"] == "REDACTED_CONTENT" for e in second)
        assert worker.poll() is None  # no restart needed

        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    assert f"{env.name}: 71 in, 71 out, 0 to DLQ" in stdout and "policy v1, v2" in stdout
    assert "dropped fields no rule covers: extra_secret" in stdout
    assert _committed(env, 1) == 71  # committed before exiting


def test_refuses_to_start_without_a_usable_policy(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    cases: list[tuple[list[str], dict[str, str], str]] = [
        ([], {}, "DEID_CATALOG_PASSWORD"),  # the catalog is the policy source, and no credentials are given
        (
            ["--policy-file", str(env.policy_file(edit=lambda d: d.update(status="draft"), name="draft.yaml"))],
            {},
            "status 'draft'",
        ),
        (
            ["--policy-file", str(env.policy_file(edit=lambda d: d.update(domain="movie"), name="movie.yaml"))],
            {},
            "for domain 'movie'",
        ),
        (
            ["--policy-file", str(env.policy_file()), "--exactly-once"],
            {"DEID_KAFKA_BOOTSTRAP_OUT": f"127.0.0.1:{free_port()}"},
            "ONE Kafka cluster",
        ),
    ]
    for args, extra, message in cases:
        result = subprocess.run(
            [*env.start_command(), *args], env=env.env(**extra), capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr
