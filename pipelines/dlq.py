"""Raw records that cannot go out: why (`Rejection`), how they are decoded, and the DLQ record.

A rejected record is written to `<domain>-dlq` on the RAW side, value and key unchanged (so it can be
replayed once fixed), with headers that say why and where it came from but never quote a value:

    dlq_reason        what went wrong, e.g. "invalid JSON: Expecting value at line 1 column 1",
                      "field 'date': cannot parse '%d-%m-%Y'" (field paths and formats, no values)
    dlq_error_class   one of ERROR_CLASSES: empty, too_large, invalid_utf8, invalid_json, not_object,
                      treatment (a rule's transform refused the value: wrong type, unparseable date, …),
                      encode (the treated record does not fit the anonymised Avro schema: wrong type),
                      too_large_output (the treated record is over an output topic's size limit),
                      refused (the producer refused the output record)
    dlq_field         the field path at fault, when known
    source_topic, source_partition, source_offset   where the record was read
    event_id          the raw event id (copied when the raw record has one)
    policy_version    the policy the worker was running
    dlq_envelope      "1" when the value is an envelope instead of the raw record (below)

When the raw record itself does not fit in the DLQ topic (`pipelines/limits.py`), the DLQ gets a
bounded envelope instead, so that no record can stop the domain: a JSON object with the reason, the
sizes, where the record was read, its event id, the sha256 of its value and key, and the first bytes of
the value (base64; the DLQ is on the raw side, so the value may be kept there, truncated). The key is kept
when it is small. The offset moves on; the raw topic still holds the whole record for its retention.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from deid.events import EVENT_ID_HEADER
from pipelines.limits import DEFAULT_MAX_RECORD_BYTES

REASON_HEADER = "dlq_reason"
ERROR_CLASS_HEADER = "dlq_error_class"
FIELD_HEADER = "dlq_field"
SOURCE_TOPIC_HEADER = "source_topic"
SOURCE_PARTITION_HEADER = "source_partition"
SOURCE_OFFSET_HEADER = "source_offset"
POLICY_VERSION_HEADER = "policy_version"
ENVELOPE_HEADER = "dlq_envelope"
ERROR_CLASSES = (
    "empty", "too_large", "invalid_utf8", "invalid_json", "not_object", "treatment", "encode", "too_large_output",
    "refused",
)  # fmt: skip
ENVELOPE_HEAD_BYTES = 64 * 1024
"""At most this much of an oversized value is kept in its envelope (less when the DLQ takes less)."""
ENVELOPE_KEY_BYTES = 1024
"""A raw key up to this size stays the DLQ record's key; a longer one is only hashed in the envelope."""
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


def decode_records(
    values: list[bytes | None], max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> tuple[list[dict[str, Any]], list[tuple[int, Rejection]]]:
    """`decode_record` for a batch: the decoded objects, in order, and (index, Rejection) for the values that
    gave none. The usual batch (every value non-empty, within the limit, a JSON object) decodes in one `map`;
    any other goes value by value, so each failure gets its own reason."""
    try:
        if all(values) and max(map(len, values), default=0) <= max_bytes:  # type: ignore[arg-type]
            records = list(map(_loads, values))  # type: ignore[arg-type]
            if set(map(type, records)) <= {dict}:
                return records, []
    except (_JSONDecodeError, RecursionError):
        pass
    decoded: list[dict[str, Any]] = []
    rejected: list[tuple[int, Rejection]] = []
    for index, value in enumerate(values):
        try:
            decoded.append(decode_record(value, max_bytes))
        except Rejection as rejection:
            rejected.append((index, rejection))
    return decoded, rejected


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


def envelope(
    value: bytes | None,
    key: bytes | None,
    headers: list[tuple[str, bytes]],
    room: int,
) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    """(value, key, headers) of a DLQ record whose raw value does not fit: a bounded JSON envelope that
    fits in `room` bytes (with its key and headers), saying why, how big, where from and what (sha256)."""
    value, kept_key = value or b"", key if key is not None and len(key) <= ENVELOPE_KEY_BYTES else None
    fields = dict(headers)
    document: dict[str, Any] = {
        "deid_dlq_envelope": 1,
        "reason": fields.get(REASON_HEADER, b"").decode(),
        "error_class": fields.get(ERROR_CLASS_HEADER, b"").decode(),
        "source_topic": fields.get(SOURCE_TOPIC_HEADER, b"").decode(),
        "source_partition": int(fields.get(SOURCE_PARTITION_HEADER, b"-1")),
        "source_offset": int(fields.get(SOURCE_OFFSET_HEADER, b"-1")),
        "event_id": fields[EVENT_ID_HEADER].decode(errors="replace") if fields.get(EVENT_ID_HEADER) else None,
        "value_bytes": len(value),
        "value_sha256": hashlib.sha256(value).hexdigest(),
        "key_bytes": None if key is None else len(key),
        "key_sha256": None if key is None else hashlib.sha256(key).hexdigest(),
        "key_kept": kept_key is not None,
        "value_head_bytes": 0,
        "value_head_base64": "",
    }
    headers = [*headers, (ENVELOPE_HEADER, b"1")]
    fixed = len(orjson.dumps(document)) + len(kept_key or b"") + sum(len(n) + len(v) + 8 for n, v in headers)
    head = max(0, min(ENVELOPE_HEAD_BYTES, (room - fixed) * 3 // 4 - 16, len(value)))
    document["value_head_bytes"] = head
    document["value_head_base64"] = base64.b64encode(value[:head]).decode()
    return orjson.dumps(document), kept_key, headers


def event_id_bytes(headers: list[tuple[str, bytes | None]] | None) -> bytes | None:
    """The raw event id header's bytes (copied as is), or None."""
    if headers:
        for name, value in headers:
            if name == EVENT_ID_HEADER:
                return value
    return None
