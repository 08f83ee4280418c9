"""`deid tail`: print a topic's records as JSON lines, values decoded."""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Message, TopicPartition

from deid.errors import DeidError
from deid.kafka import Side, make_consumer
from deid.settings import Settings

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

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
        return avro_decoder(raw) if avro_decoder is not None else framed_marker(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$base64": base64.b64encode(raw).decode("ascii")}
    try:
        return json.loads(text)
    except ValueError:
        return text


def framed_marker(raw: bytes, error: str | None = None) -> dict[str, Any]:
    """A Confluent-framed value that was not decoded: its schema id, body and, if any, why."""
    marker: dict[str, Any] = {"schema_id": int.from_bytes(raw[1:5], "big")}
    if error:
        marker["error"] = error
    marker["base64"] = base64.b64encode(raw[5:]).decode("ascii")
    return {"$confluent_avro": marker}


def jsonable(value: Any) -> Any:
    """A decoded Avro value as JSON: bytes as tagged base64, logical types as text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


class RegistryAvroDecoder:
    """Decodes Confluent-framed Avro through a Schema Registry, each schema fetched once per id.

    A record whose schema cannot be had (unknown id, registry unreachable, not Avro) or whose body does
    not match its schema becomes a marker naming the problem; nothing raises. A failed look-up is
    retried after `retry_after` seconds, so a registry that comes back is used again.
    """

    def __init__(self, client_factory: Callable[[], SchemaRegistryClient], retry_after: float = 30.0) -> None:
        self._client_factory = client_factory
        self._client: SchemaRegistryClient | None = None
        self._retry_after = retry_after
        self._schemas: dict[int, Any] = {}
        self._failures: dict[int, tuple[float, str]] = {}

    def __call__(self, raw: bytes) -> Any:
        from fastavro import schemaless_reader

        schema_id = int.from_bytes(raw[1:5], "big")
        schema = self._schema(schema_id)
        if isinstance(schema, str):
            return framed_marker(raw, schema)
        try:
            return jsonable(schemaless_reader(io.BytesIO(raw[5:]), schema, None))
        except Exception:  # the bytes are data, not ours to echo in an error
            return framed_marker(raw, f"the body does not decode with schema {schema_id}")

    def _schema(self, schema_id: int) -> Any:
        """The parsed writer schema, or a string saying why there is none."""
        if schema_id in self._schemas:
            return self._schemas[schema_id]
        failed = self._failures.get(schema_id)
        if failed and time.monotonic() - failed[0] < self._retry_after:
            return failed[1]
        try:
            parsed = self._fetch(schema_id)
        except _LookupFailed as exc:
            self._failures[schema_id] = (time.monotonic(), str(exc))
            return str(exc)
        self._failures.pop(schema_id, None)
        self._schemas[schema_id] = parsed
        return parsed

    def _fetch(self, schema_id: int) -> Any:
        from confluent_kafka.schema_registry.error import SchemaRegistryError
        from fastavro import parse_schema

        try:
            if self._client is None:
                self._client = self._client_factory()
            schema = self._client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise _LookupFailed(f"schema {schema_id} is not in the schema registry") from None
            raise _LookupFailed(
                f"the schema registry answered {exc.http_status_code} (error {exc.error_code}) for schema {schema_id}"
            ) from None
        except Exception as exc:  # httpx transport errors and the like; the URL may hold credentials
            raise _LookupFailed(
                f"the schema registry is unreachable ({type(exc).__name__}); check DEID_SCHEMA_REGISTRY_URL"
            ) from None
        if (schema.schema_type or "AVRO") != "AVRO":
            raise _LookupFailed(f"schema {schema_id} is {schema.schema_type}, not Avro")
        try:
            return parse_schema(json.loads(schema.schema_str))
        except Exception:
            raise _LookupFailed(f"schema {schema_id} from the registry is not a usable Avro schema") from None


class _LookupFailed(Exception):
    pass


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


def read_all(settings: Settings, topic: str, side: Side = "raw", timeout: float = 60.0) -> list[Message]:
    """Every committed record of `topic`, up to the end each partition had when reading began."""
    consumer = make_consumer(
        settings,
        f"deid-read-{uuid.uuid4().hex[:12]}",
        side,
        **{"enable.partition.eof": True, "isolation.level": "read_committed"},
    )
    try:
        _assign(consumer, TailOptions(topic, from_beginning=True))
        pending = {tp.partition for tp in consumer.assignment()}
        records: list[Message] = []
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise DeidError(f"reading {topic}: partitions {sorted(pending)} not read to the end in {timeout:g}s")
            for message in consumer.consume(10_000, 0.5):
                error = message.error()
                if error is None:
                    records.append(message)
                elif error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
                else:
                    raise DeidError(f"reading {topic}: {error.str()}")
        return records
    finally:
        consumer.close()
