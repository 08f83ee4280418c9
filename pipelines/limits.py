"""Record size limits, in one place: what a worker accepts in, and what it may write to each topic.

Three numbers decide whether a record fits in Kafka: the producer's `message.max.bytes` (librdkafka
refuses a larger record at `produce()`, default 1,000,000), the topic's `max.message.bytes` (the broker
refuses a larger record batch; it inherits the broker's `message.max.bytes`, default 1,048,588), and
the producer's `batch.size` (a compressed batch of many small records must fit the topic too). At
start the worker reads the topics' limits from the broker (`resolve_limits`) and keeps, per topic, the
smallest of them less a margin for the record framing. An output or DLQ record over its topic's limit
is never handed to the producer: the input goes to the DLQ (reason `too_large_output`), and a DLQ
record that would not fit becomes a bounded envelope (`pipelines/dlq.py`). A client limit set in the
config file (`kafka_properties: {message.max.bytes: …}`) above a topic's limit is a ConfigError: the
broker would refuse what the client lets through, and the batch would fail again on every restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource

from deid.errors import ConfigError, DeidError
from deid.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_RECORD_BYTES = 1_000_000
"""Raw records larger than this go to the DLQ (reason too_large) without being decoded."""
CLIENT_MESSAGE_MAX_BYTES = 1_000_000
"""librdkafka's default `message.max.bytes`."""
BROKER_MESSAGE_MAX_BYTES = 1_048_588
"""Kafka's default `message.max.bytes` (a topic without its own `max.message.bytes` inherits it)."""
LIBRDKAFKA_MIN_MESSAGE_MAX_BYTES = 1000
"""The smallest `message.max.bytes` librdkafka accepts (a smaller one fails the client's creation)."""
FRAMING_BYTES = 512
"""Kept free below a limit for the record and batch framing Kafka adds to key, value and headers."""
HEADER_FRAMING_BYTES = 8
"""Per header: the varint lengths around its name and value (generous)."""


def record_size(value: bytes | None, key: bytes | None, headers: Iterable[tuple[str, bytes | None]]) -> int:
    """Bytes of a record as its producer counts them: value, key and headers (with their framing)."""
    size = len(value or b"") + len(key or b"")
    for name, header in headers:
        size += len(name) + len(header or b"") + HEADER_FRAMING_BYTES
    return size


def oversize_reason(
    pairs: Iterable[tuple[str, bytes]], key: bytes | None, headers: list[tuple[str, bytes]], room: dict[str, int]
) -> str | None:
    """Why one of a record's outputs (topic, value) does not fit its topic (sizes only), or None."""
    for topic, value in pairs:
        size = record_size(value, key, headers)
        if size > room[topic]:
            return f"the anonymised record for {topic} is {size} bytes, over the topic's limit of {room[topic]}"
    return None


@dataclass
class Limits:
    """The largest raw record read, and the largest record each topic takes (framing margin included)."""

    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    client_bytes: int = CLIENT_MESSAGE_MAX_BYTES
    by_topic: dict[str, int] = field(default_factory=dict)

    def fits(self, topic: str) -> int:
        """The largest record (value + key + headers) that may be produced to `topic`."""
        return min(self.by_topic.get(topic, BROKER_MESSAGE_MAX_BYTES), self.client_bytes) - FRAMING_BYTES

    @property
    def producer_bytes(self) -> int:
        """`message.max.bytes` for the producer: no bigger than any topic it writes takes."""
        return min([self.client_bytes, *self.by_topic.values()])

    def producer_config(self) -> dict[str, int]:
        """Producer properties that keep every record and every batch within the topics' limits.

        Within librdkafka's ranges: a topic that takes less than its minimum gets no record at all
        (`fits` is then below zero: every output goes to the DLQ), so the producer needs no smaller."""
        producer_bytes = max(self.producer_bytes, LIBRDKAFKA_MIN_MESSAGE_MAX_BYTES)
        return {"message.max.bytes": producer_bytes, "batch.size": max(1, self.producer_bytes - FRAMING_BYTES)}


def topic_limits(admin: AdminClient, topics: Iterable[str], timeout: float = 15.0) -> dict[str, int]:
    """Each topic's effective `max.message.bytes`, as the broker reports it (the topic's or the broker's)."""
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in sorted(set(topics))]
    if not resources:
        return {}
    limits: dict[str, int] = {}
    for resource, future in admin.describe_configs(resources, request_timeout=timeout).items():
        try:
            entries = future.result(timeout)
        except KafkaException as exc:
            raise DeidError(
                f"could not read the size limit (max.message.bytes) of topic {resource.name}: {exc.args[0].str()}"
            ) from None
        entry = entries.get("max.message.bytes")
        limits[resource.name] = int(entry.value) if entry is not None and entry.value else BROKER_MESSAGE_MAX_BYTES
    return limits


def client_limit(settings: Settings, side: str) -> tuple[int, bool]:
    """The producer's `message.max.bytes` for a side, and whether the config file set it."""
    properties = dict(settings.kafka_properties)
    if side == "out":
        properties.update(settings.kafka_properties_out)
    value = properties.get("message.max.bytes")
    if value is None:
        return CLIENT_MESSAGE_MAX_BYTES, False
    try:
        return int(value), True
    except ValueError:
        raise ConfigError(
            f"kafka_properties.message.max.bytes must be a whole number of bytes, not {value!r}"
        ) from None


def resolve_limits(
    settings: Settings,
    max_record_bytes: int,
    out_admin: AdminClient,
    out_topics: Iterable[str],
    raw_admin: AdminClient,
    dlq_topic: str,
) -> Limits:
    """The worker's limits, checked against the broker; ConfigError when the config and the broker disagree."""
    out_topics = list(out_topics)
    by_topic = topic_limits(out_admin, out_topics)
    by_topic.update(topic_limits(raw_admin, [dlq_topic]))
    client = min(client_limit(settings, "out")[0], client_limit(settings, "raw")[0])
    for side in ("out", "raw"):
        configured, explicit = client_limit(settings, side)
        topics = out_topics if side == "out" else [dlq_topic]
        too_big = [t for t in topics if explicit and configured > by_topic[t]]
        if too_big:
            name = "kafka_properties_out" if side == "out" and settings.kafka_properties_out else "kafka_properties"
            raise ConfigError(
                f"{name}.message.max.bytes is {configured} but topic {too_big[0]} takes at most "
                f"{by_topic[too_big[0]]} bytes per record (its max.message.bytes): the broker would refuse what "
                f"the worker produces; lower message.max.bytes to {by_topic[too_big[0]]} or raise the topic's "
                "max.message.bytes"
            )
    limits = Limits(max_record_bytes, client, by_topic)
    if max_record_bytes > limits.fits(dlq_topic):
        log.info(
            "raw records up to %d bytes are read but %s takes %d: larger rejected ones go to it as an envelope "
            "(reason, sizes, sha256, the value's head)",
            max_record_bytes,
            dlq_topic,
            limits.fits(dlq_topic),
        )
    return limits
