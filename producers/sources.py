"""Where the produce loop's events come from: a seeded generator, or the lines of a JSONL file.

Both yield `OutgoingEvent`s: the event id (see `deid.events`), the Kafka key (the subject field's value,
or `--key-field`'s; the event id when the domain has no subject, e.g. memo) and the JSON value bytes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from deid.domains import Domain
from deid.errors import ConfigError
from producers.base import EventGenerator, Span


def _not_serializable(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_encoder() -> Callable[[Any], str]:
    """Compact UTF-8 JSON. `JSONEncoder.encode` builds its C encoder anew on every call, which for a small
    event costs as much as the encoding itself; build it once (the public API where the C part is missing)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    iterencode = make(None, _not_serializable, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    join = "".join
    return lambda value: join(iterencode(value, 0))


encode_json = _json_encoder()


class OutgoingEvent(NamedTuple):
    event_id: str
    key: bytes | None
    value: bytes
    spans: list[Span] | None = None


# NamedTuple's generated __new__ is Python code; tuple.__new__ builds the same object ~5x faster.
_outgoing = tuple.__new__


BadLine = Callable[[int, str], None]
"""Called with (line number, reason) for each line that is not a JSON object; never given the line."""


def key_field_for(domain: Domain, key_field: str | None) -> str | None:
    """The field whose value keys the records: `key_field` if given (it must exist), else the subject."""
    if key_field is None:
        return domain.subject_field
    if key_field not in domain.fields:
        raise ConfigError(
            f"--key-field {key_field!r} is not a field of domain {domain.name!r}; fields: {', '.join(domain.fields)}"
        )
    return key_field


def _key(event: dict[str, Any], key_field: str | None, event_id: str) -> bytes | None:
    if key_field is None:
        return event_id.encode()
    value = event.get(key_field)
    if value is None:
        return None
    return (value if isinstance(value, str) else encode_json(value)).encode()


def generated_events(
    generator: EventGenerator, count: int | None, key_field: str | None, with_spans: bool = False
) -> Iterator[OutgoingEvent]:
    """`count` events (None: without end) from a seeded generator, ids `gen:<domain>:<seed>:<n>`."""
    prefix = f"gen:{generator.domain.name}:{generator.seed}:"
    sequence = range(count) if count is not None else itertools.count()
    if with_spans:
        for number in sequence:
            event, spans = generator.labelled()
            event_id = prefix + str(number)
            yield OutgoingEvent(event_id, _key(event, key_field, event_id), encode_json(event).encode(), spans)
        return
    next_event = generator.event
    for number in sequence:
        event = next_event()
        event_id = prefix + str(number)
        yield _outgoing(OutgoingEvent, (event_id, _key(event, key_field, event_id), encode_json(event).encode(), None))


class FileScan(NamedTuple):
    digest: str
    lines: int


def scan_file(path: Path) -> FileScan:
    """The file's SHA-256 (ids of replayed lines derive from it) and its number of lines, in one pass."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise ConfigError(f"--from-file {path}: cannot read it ({exc.strerror or exc})") from None
    return FileScan(digest.hexdigest(), lines + (last != b"\n"))


_JSON_TYPE = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def parse_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """(the JSON object, None), or (None, why the line is not one). The reason never quotes the line."""
    if not line.strip():
        return None, "empty line"
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"a JSON {_JSON_TYPE.get(type(value), 'value')}, not an object"
    return value, None


def replayed_events(path: Path, scan: FileScan, key_field: str | None, on_bad_line: BadLine) -> Iterator[OutgoingEvent]:
    """The file's lines as they are (without the line break), one event each; lines that are not a JSON
    object go to `on_bad_line` and are skipped. Ids: `file:<digest[:16]>:<line number>`."""
    prefix = f"file:{scan.digest[:16]}:"
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            event, problem = parse_line(line)
            if event is None:
                on_bad_line(number, problem or "not a JSON object")
                continue
            event_id = prefix + str(number)
            yield OutgoingEvent(event_id, _key(event, key_field, event_id), line)
