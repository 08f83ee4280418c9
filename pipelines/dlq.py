"""Raw records that cannot go out: why (`Rejection`), how they are decoded, and the DLQ record.

A rejected record is written to `<domain>-dlq` on the RAW side, value and key unchanged (so it can be
replayed once fixed), with headers that say why and where it came from but never quote a value:

    dlq_reason        what went wrong, e.g. "invalid JSON: Expecting value at line 1 column 1",
                      "field 'date': cannot parse '%d-%m-%Y'" (field paths and formats, no values)
    dlq_error_class   one of ERROR_CLASSES: empty, too_large, invalid_utf8, invalid_json, not_object,
                      treatment (a rule's transform refused the value: wrong type, unparseable date, …),
                      encode (the treated record does not fit the anonymised Avro schema: wrong type)
    dlq_field         the field path at fault, when known
    source_topic, source_partition, source_offset   where the record was read
    event_id          the raw event id (copied when the raw record has one)
    policy_version    the policy the worker was running
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from deid.events import EVENT_ID_HEADER

REASON_HEADER = "dlq_reason"
ERROR_CLASS_HEADER = "dlq_error_class"
FIELD_HEADER = "dlq_field"
SOURCE_TOPIC_HEADER = "source_topic"
SOURCE_PARTITION_HEADER = "source_partition"
SOURCE_OFFSET_HEADER = "source_offset"
POLICY_VERSION_HEADER = "policy_version"
ERROR_CLASSES = ("empty", "too_large", "invalid_utf8", "invalid_json", "not_object", "treatment", "encode")
DEFAULT_MAX_RECORD_BYTES = 1_000_000
_loads, _JSONDecodeError = orjson.loads, orjson.JSONDecodeError


@dataclass(frozen=True)
class Rejection(Exception):
    """Why one record goes to the DLQ. `reason` never contains a value from the record."""

    error_class: str
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        return self.reason


def decode_record(value: bytes | None, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> dict[str, Any]:
    """The raw record as a JSON object; Rejection (empty, too_large, invalid_utf8, invalid_json, not_object).

    Strict JSON (RFC 8259) in UTF-8: orjson rejects NaN/Infinity, lone surrogates and invalid UTF-8, which
    the standard library lets through. Failures are re-read by the slow path only to say what is wrong.
    """
    if not value:
        raise Rejection("empty", "the record has no value")
    if len(value) > max_bytes:
        raise Rejection("too_large", f"the record is {len(value)} bytes, over the limit of {max_bytes}")
    try:
        record = _loads(value)
    except _JSONDecodeError as exc:
        raise _rejection(value, exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise Rejection("invalid_json", "invalid JSON: nested too deeply") from None
    if type(record) is not dict:
        raise Rejection("not_object", f"the record is a JSON {_json_kind(record)}, not an object")
    return record


def _rejection(value: bytes, message: str, line: int, column: int) -> Rejection:
    """Why strict decoding failed: invalid UTF-8 (with the byte position) or invalid JSON (orjson's reason,
    which names the problem and where, never the data)."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection("invalid_utf8", f"invalid UTF-8 at byte {exc.start}")
    return Rejection("invalid_json", f"invalid JSON: {message} at line {line} column {column}")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def dlq_headers(
    rejection: Rejection,
    topic: str,
    partition: int,
    offset: int,
    event_id: bytes | None,
    policy_version: int,
) -> list[tuple[str, bytes]]:
    headers = [
        (REASON_HEADER, rejection.reason.encode()),
        (ERROR_CLASS_HEADER, rejection.error_class.encode()),
        (SOURCE_TOPIC_HEADER, topic.encode()),
        (SOURCE_PARTITION_HEADER, str(partition).encode()),
        (SOURCE_OFFSET_HEADER, str(offset).encode()),
        (POLICY_VERSION_HEADER, str(policy_version).encode()),
    ]
    if rejection.field is not None:
        headers.append((FIELD_HEADER, rejection.field.encode()))
    if event_id is not None:
        headers.append((EVENT_ID_HEADER, event_id))
    return headers


def event_id_bytes(headers: list[tuple[str, bytes | None]] | None) -> bytes | None:
    """The raw event id header's bytes (copied as is), or None."""
    if headers:
        for name, value in headers:
            if name == EVENT_ID_HEADER:
                return value
    return None
