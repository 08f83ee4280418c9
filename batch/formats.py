"""File formats of batch inputs and outputs: JSON lines, CSV, Parquet, and plain text (one file = one document).

`read_rows` yields every row of a file with its 1-based number: a record (dict) or, for a row that cannot be
decoded, the reason and the raw row (for the raw-side quarantine, never the output). CSV cells are text:
they are converted to the domain's field types (`""` is null). A text file becomes one record: its content
in the domain's free-text field, the file's stem in the domain's `*_id` field if it has one.
`write_rows` encodes output records in the input's format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

import orjson

from deid.domains import Domain
from deid.errors import ConfigError

Format = Literal["jsonl", "csv", "parquet", "text"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "text")
EXTENSIONS: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
}
OUTPUT_EXTENSION: dict[str, str] = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet", "text": "txt"}


@dataclass(frozen=True)
class Row:
    number: int
    record: dict[str, Any] | None
    reason: str | None = None
    raw: str | None = None


def detect_format(key: str, override: str | None = None) -> Format | None:
    """The format of a file by its extension (or the override); None for files a batch does not read."""
    name = PurePosixPath(key).name
    if name.startswith(("_", ".")):
        return None  # manifests, markers, temporary files
    if override:
        return override  # type: ignore[return-value]
    return EXTENSIONS.get(PurePosixPath(key).suffix.lower())


def text_field(domain: Domain) -> str:
    for name, spec in domain.fields.items():
        if spec.type == "text":
            return name
    raise ConfigError(f"domain {domain.name!r} has no field of type text: plain-text files cannot be read into it")


def _id_field(domain: Domain) -> str | None:
    return next((n for n, s in domain.fields.items() if s.type == "string" and n.endswith("_id")), None)


def read_rows(fmt: str, data: bytes, key: str, domain: Domain) -> Iterator[Row]:
    if fmt == "jsonl":
        yield from _jsonl(data)
    elif fmt == "csv":
        yield from _csv(data, domain)
    elif fmt == "parquet":
        yield from _parquet(data)
    elif fmt == "text":
        record: dict[str, Any] = {text_field(domain): data.decode("utf-8")}
        id_field = _id_field(domain)
        if id_field:
            record[id_field] = PurePosixPath(key).stem
        yield Row(1, record)
    else:
        raise ConfigError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def _jsonl(data: bytes) -> Iterator[Row]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield Row(number, None, "not valid JSON", line.decode("utf-8", "replace"))
            continue
        if type(value) is not dict:
            yield Row(number, None, "not a JSON object", line.decode("utf-8", "replace"))
        else:
            yield Row(number, value)


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def _convert(value: str, kind: str) -> Any:
    if value == "":
        return None
    if kind in {"int", "long"}:
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError
    return value


def _csv(data: bytes, domain: Domain) -> Iterator[Row]:
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    types = {name: spec.type for name, spec in domain.fields.items()}
    for values in reader:
        number = reader.line_num
        if not values:
            continue
        raw = ",".join(values)
        if len(values) != len(header):
            yield Row(number, None, f"{len(values)} cells where the header has {len(header)}", raw)
            continue
        record, problem = {}, None
        for name, value in zip(header, values, strict=True):
            try:
                record[name] = _convert(value, types.get(name, "string"))
            except ValueError:
                problem = f"field {name!r}: not a {types[name]}"
                break
        yield Row(number, None, problem, raw) if problem else Row(number, record)


def _parquet(data: bytes) -> Iterator[Row]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    for number, record in enumerate(table.to_pylist(), start=1):
        yield Row(number, record)


def write_rows(fmt: str, records: Sequence[dict[str, Any]], domain: Domain) -> bytes:
    if fmt == "jsonl":
        return b"".join(orjson.dumps(r, default=str) + b"\n" for r in records)
    if fmt == "csv":
        return _write_csv(records)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(list(records)), sink)
        return sink.getvalue()
    if fmt == "text":
        field = text_field(domain)
        return "\n".join(str(r.get(field) or "") for r in records).encode("utf-8")
    raise ConfigError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def _write_csv(records: Sequence[dict[str, Any]]) -> bytes:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)
