"""`deid tail`: print a topic's records as JSON lines, values decoded."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Message, TopicPartition

from deid.errors import DeidError
from deid.kafka import Side, make_consumer
from deid.settings import Settings

# Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro body.
CONFLUENT_MAGIC = 0
AvroDecoder = Callable[[bytes], Any]


def decode_bytes(raw: bytes | None) -> Any:
    """Key or header bytes as text when they are UTF-8, else tagged base64."""
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$base64": base64.b64encode(raw).decode("ascii")}


def decode_value(raw: bytes | None, avro_decoder: AvroDecoder | None = None) -> Any:
    """JSON as is; Confluent-framed Avro through the decoder; other text as a string; else base64."""
    if raw is None:
        return None
    if len(raw) >= 5 and raw[0] == CONFLUENT_MAGIC:
        if avro_decoder is not None:
            return avro_decoder(raw)
        return {
            "$confluent_avro": {
                "schema_id": int.from_bytes(raw[1:5], "big"),
                "base64": base64.b64encode(raw[5:]).decode("ascii"),
            }
        }
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$base64": base64.b64encode(raw).decode("ascii")}
    try:
        return json.loads(text)
    except ValueError:
        return text


def render(message: Message, with_meta: bool, avro_decoder: AvroDecoder | None = None) -> str:
    value = decode_value(message.value(), avro_decoder)
    if with_meta:
        headers = {k: decode_bytes(v) for k, v in (message.headers() or [])}
        value = {
            "key": decode_bytes(message.key()),
            "headers": headers,
            "partition": message.partition(),
            "offset": message.offset(),
            "value": value,
        }
    return json.dumps(value, ensure_ascii=False)


@dataclass
class TailOptions:
    topic: str
    from_beginning: bool = False
    max_records: int | None = None
    timeout: float | None = None  # seconds without a new record before stopping; None = forever
    side: Side = "raw"


def _assign(consumer: Consumer, options: TailOptions) -> None:
    metadata = consumer.list_topics(options.topic, timeout=10)
    topic = metadata.topics.get(options.topic)
    if topic is None or topic.error is not None or not topic.partitions:
        raise DeidError(f"topic {options.topic!r} does not exist (see `deid topics list`)")
    start = OFFSET_BEGINNING if options.from_beginning else OFFSET_END
    consumer.assign([TopicPartition(options.topic, p, start) for p in sorted(topic.partitions)])


def tail(settings: Settings, options: TailOptions) -> Iterator[Message]:
    """Yield records until `max_records` or `timeout` seconds pass without one."""
    consumer = make_consumer(
        settings, f"deid-tail-{uuid.uuid4().hex[:12]}", options.side, **{"enable.partition.eof": False}
    )
    try:
        _assign(consumer, options)
        seen = 0
        last = time.monotonic()
        while options.max_records is None or seen < options.max_records:
            wait = 0.5 if options.timeout is None else max(0.0, min(0.5, last + options.timeout - time.monotonic()))
            message = consumer.poll(wait)
            if message is None:
                if options.timeout is not None and time.monotonic() - last >= options.timeout:
                    return
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise DeidError(f"reading {options.topic}: {message.error().str()}")
            seen += 1
            last = time.monotonic()
            yield message
    finally:
        consumer.close()
