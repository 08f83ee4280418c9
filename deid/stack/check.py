"""A round trip through the broker: produce a probe record and read it back."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from deid.errors import DeidError
from deid.kafka import Side, make_consumer, make_producer, reachable_admin
from deid.settings import Settings

CHECK_TOPIC = "deid-stack-check"


@dataclass(frozen=True)
class RoundTrip:
    topic: str
    partition: int
    offset: int
    seconds: float
    value: dict[str, Any]


def _ensure_topic(settings: Settings, side: Side) -> None:
    admin = reachable_admin(settings, side)
    if CHECK_TOPIC not in admin.list_topics(timeout=10).topics:
        future = admin.create_topics([NewTopic(CHECK_TOPIC, 1, 1)])[CHECK_TOPIC]
        try:
            future.result(30)
        except Exception as exc:  # a concurrent check may have created it
            if "already exists" not in str(exc).lower():
                raise DeidError(f"could not create {CHECK_TOPIC}: {exc}") from None


def _high_watermark(consumer: Any, deadline: float) -> int:
    """The probe partition's end offset. A just-created topic may have no leader yet (more so on a loaded
    machine), so errors are retried until the deadline."""
    while True:
        try:
            return consumer.get_watermark_offsets(TopicPartition(CHECK_TOPIC, 0), timeout=5)[1]
        except KafkaException as exc:
            if time.monotonic() >= deadline:
                raise DeidError(f"could not read the end offset of {CHECK_TOPIC}: {exc.args[0].str()}") from None
            time.sleep(0.5)


def round_trip(settings: Settings, side: Side = "raw", timeout: float = 30.0) -> RoundTrip:
    """Produce one probe record and consume it back; raise DeidError if it does not return in time."""
    _ensure_topic(settings, side)
    probe = {"probe": uuid.uuid4().hex, "sent_at": time.time()}
    consumer = make_consumer(settings, f"deid-check-{probe['probe'][:12]}", side)
    try:
        high = _high_watermark(consumer, time.monotonic() + timeout)
        consumer.assign([TopicPartition(CHECK_TOPIC, 0, high)])
        start = time.monotonic()
        producer = make_producer(settings, side, **{"enable.idempotence": True})
        producer.produce(CHECK_TOPIC, json.dumps(probe).encode(), key=probe["probe"].encode())
        if producer.flush(timeout) != 0:
            raise DeidError(f"the probe record was not acknowledged within {timeout:g}s")
        while time.monotonic() - start < timeout:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            value = json.loads(message.value())
            if value.get("probe") == probe["probe"]:
                return RoundTrip(CHECK_TOPIC, message.partition(), message.offset(), time.monotonic() - start, value)
        raise DeidError(f"the probe record did not come back from {CHECK_TOPIC} within {timeout:g}s")
    finally:
        consumer.close()
