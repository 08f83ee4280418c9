"""No record stops a domain: a 2 MB raw record and an 800 KB one whose output passes 1 MB go to the DLQ (the
first as a bounded envelope), and the worker de-identifies the 1,000 records behind them."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

import orjson
import pytest
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

from deid.events import EVENT_ID_HEADER
from deid.kafka import make_admin, make_producer
from pipelines.limits import topic_limits
from tests.conftest import Broker
from tests.integration.pipeline_support import headers_of, pipeline_env, read_topic

pytestmark = pytest.mark.kafka



def _allow_large_records(kafka: Broker, topic: str, limit: int) -> None:
    """The raw topic takes records up to `limit` bytes (a producer elsewhere wrote them; deid must cope)."""
    admin = make_admin(kafka.settings)
    entry = ConfigEntry("max.message.bytes", str(limit), incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)
    deadline = time.monotonic() + 30  # the broker applies the change a moment after the controller took it
    while topic_limits(admin, [topic])[topic] != limit:
        assert time.monotonic() < deadline, f"{topic}: max.message.bytes not applied"
        time.sleep(0.2)


def _event(n: int, **overrides: str) -> bytes:
    event = {"channel_name": "HBO", "tv_show": "Succession", "tv_show_type": "Drama", "date": "03-04-2023",
             "user_id": f"user-{n:05d}"}  # fmt: skip
    event.update(overrides)
    return json.dumps(event).encode()


@pytest.mark.parametrize("exactly_once", [True, False], ids=["exactly-once", "at-least-once"])
def test_oversized_input_and_output_go_to_the_dlq_and_the_stream_goes_on(
    kafka: Broker, tmp_path: Path, registry_url: str, exactly_once: bool
) -> None:
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    _allow_large_records(kafka, env.domain.raw_topic, 3_000_000)
    huge = _event(0, tv_show="x" * 2_000_000)  # over the worker's 1,000,000-byte input limit and the DLQ's
    bloating = _event(1, user_id="u" * 800_000)  # fits in; its encrypted user id (Fernet, base64) passes 1 MB
    producer = make_producer(env.settings, **{"message.max.bytes": 3_000_000})
    errors: list[object] = []
    for name, value in (("huge", huge), ("bloating", bloating)):
        producer.produce(env.domain.raw_topic, value, b"k" * 10, headers=[(EVENT_ID_HEADER, name.encode())],
                         on_delivery=lambda error, _msg: errors.append(error))  # fmt: skip
    assert producer.flush(30) == 0 and errors == [None, None], errors
    behind = env.produce_raw([_event(n) for n in range(2, 1002)], prefix="behind")

    mode = ["--exactly-once"] if exactly_once else []
    result = env.run("--policy-file", str(env.policy_file()), "--until-caught-up", *mode)
    assert result.returncode == 0, result.stderr
    assert "1002 in, 1000 out, 2 to DLQ" in result.stdout

    out = read_topic(env.settings, env.domain.anonymised_topic)
    assert sorted(headers_of(m)[EVENT_ID_HEADER] for m in out) == sorted(behind)
    dead = {headers_of(m)[EVENT_ID_HEADER]: m for m in read_topic(env.settings, env.domain.dlq_topic)}
    assert set(dead) == {"huge", "bloating"}

    envelope_headers = headers_of(dead["huge"])
    assert envelope_headers["dlq_error_class"] == "too_large" and envelope_headers["dlq_envelope"] == "1"
    assert len(dead["huge"].value()) < 1_000_000  # bounded: it fits the DLQ topic
    document = orjson.loads(dead["huge"].value())
    assert document["value_bytes"] == len(huge)
    assert document["value_sha256"] == hashlib.sha256(huge).hexdigest()
    assert document["source_topic"] == env.domain.raw_topic and document["source_offset"] == 0
    assert document["event_id"] == "huge" and document["reason"] == envelope_headers["dlq_reason"]
    head = base64.b64decode(document["value_head_base64"])
    assert 0 < len(head) == document["value_head_bytes"] and huge.startswith(head)  # truncated, raw side only
    assert dead["huge"].key() == b"k" * 10

    bloated = headers_of(dead["bloating"])
    assert bloated["dlq_error_class"] == "too_large_output", bloated
    assert "over the topic's limit" in bloated["dlq_reason"] and "uuu" not in bloated["dlq_reason"]
    assert dead["bloating"].value() == bloating  # it fits the DLQ: kept as it came, for a replay
    assert "dlq_envelope" not in bloated
