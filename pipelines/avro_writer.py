"""A compiled Avro binary writer for the anonymised schemas: one closure per field, built once per schema.

fastavro's `schemaless_writer` walks the schema for every record (plus a BytesIO): on a stream it was the
largest single cost per record. Anonymised schemas use a small subset of Avro (records, arrays, unions of
primitives, null/boolean/int/long/double/string), so each field compiles to a function that appends its
bytes to a list, and a record is one `b"".join`. Anything outside that subset (maps, enums, fixed, bytes,
named references) makes `compile_writer` return None and the caller keeps fastavro.

Types are checked, more strictly than fastavro: a string field takes only str, int/long only int (not bool,
within range), double int or float, boolean only bool. A value that does not fit raises
`FieldTypeError(field path)`, never quoting the value. Tests decode the output with fastavro.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

Append = Callable[[bytes], Any]
FieldWriter = Callable[[Any, Append], None]
RecordWriter = Callable[[dict[str, Any]], bytes]

_SMALL_VARINTS = 16_384
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_pack_double = struct.Struct("<d").pack
_PRIMITIVES = {"null", "boolean", "int", "long", "double", "string"}


class FieldTypeError(TypeError):
    """A value does not fit its field's Avro type; carries the field path only."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class _Unsupported(Exception):
    pass


def _varint_slow(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_VARINTS = [_varint_slow(n) for n in range(_SMALL_VARINTS)]


def _varint(n: int) -> bytes:
    return _VARINTS[n] if n < _SMALL_VARINTS else _varint_slow(n)


def zigzag(n: int) -> bytes:
    """Avro's int/long encoding: zig-zag, then a base-128 varint."""
    return _varint((n << 1) ^ (n >> 63))  # n within the long range (callers check)


# String lengths prefixed with a union branch index, precomputed: one append instead of two.
_LENGTHS = [zigzag(n) for n in range(4096)]


def _string_writer(path: str, branch: bytes | None) -> FieldWriter:
    prefixes = [branch + length for length in _LENGTHS] if branch else _LENGTHS
    limit = len(prefixes)

    def write_string(value: Any, append: Append) -> None:
        if type(value) is not str:
            raise FieldTypeError(path)
        try:
            data = value.encode()
        except UnicodeEncodeError:  # a lone surrogate from a JSON \\ud800 escape: not UTF-8
            raise FieldTypeError(path) from None
        size = len(data)
        append(prefixes[size] if size < limit else (branch or b"") + zigzag(size))
        append(data)

    return write_string


def _int_writer(path: str, branch: bytes | None, bounds: tuple[int, int]) -> FieldWriter:
    low, high = bounds
    prefix = branch or b""

    def write_int(value: Any, append: Append) -> None:
        if type(value) is not int or not low <= value <= high:
            raise FieldTypeError(path)
        append(prefix + zigzag(value))

    return write_int


def _double_writer(path: str, branch: bytes | None) -> FieldWriter:
    prefix = branch or b""

    def write_double(value: Any, append: Append) -> None:
        if type(value) is not float and type(value) is not int:
            raise FieldTypeError(path)
        append(prefix + _pack_double(value))

    return write_double


def _boolean_writer(path: str, branch: bytes | None) -> FieldWriter:
    true, false = (branch or b"") + b"\x01", (branch or b"") + b"\x00"

    def write_boolean(value: Any, append: Append) -> None:
        if type(value) is not bool:
            raise FieldTypeError(path)
        append(true if value else false)

    return write_boolean


def _null_writer(path: str, branch: bytes | None) -> FieldWriter:
    encoded = branch or b""

    def write_null(value: Any, append: Append) -> None:
        if value is not None:
            raise FieldTypeError(path)
        append(encoded)

    return write_null


def _accepts(avro_type: Any) -> Callable[[Any], bool]:
    """Whether a Python value belongs to this union branch (the first branch that accepts it is used)."""
    name = avro_type if isinstance(avro_type, str) else avro_type.get("type")
    checks: dict[str, Callable[[Any], bool]] = {
        "null": lambda v: v is None,
        "boolean": lambda v: type(v) is bool,
        "int": lambda v: type(v) is int and _INT_RANGE[0] <= v <= _INT_RANGE[1],
        "long": lambda v: type(v) is int and _LONG_RANGE[0] <= v <= _LONG_RANGE[1],
        "double": lambda v: type(v) is float or type(v) is int,
        "string": lambda v: type(v) is str,
        "record": lambda v: type(v) is dict,
        "array": lambda v: type(v) is list,
    }
    if name not in checks:
        raise _Unsupported(name)
    return checks[name]


def _writer(avro_type: Any, path: str, branch: bytes | None = None) -> FieldWriter:
    if isinstance(avro_type, list):
        return _union_writer(avro_type, path)
    name = avro_type if isinstance(avro_type, str) else avro_type.get("type")
    if name == "string":
        return _string_writer(path, branch)
    if name in {"int", "long"}:
        return _int_writer(path, branch, _INT_RANGE if name == "int" else _LONG_RANGE)
    if name == "double":
        return _double_writer(path, branch)
    if name == "boolean":
        return _boolean_writer(path, branch)
    if name == "null":
        return _null_writer(path, branch)
    if name == "record" and isinstance(avro_type, dict):
        return _prefixed(_record_fields_writer(avro_type, path), branch)
    if name == "array" and isinstance(avro_type, dict):
        return _prefixed(_array_writer(avro_type["items"], path), branch)
    raise _Unsupported(str(name))


def _prefixed(writer: FieldWriter, branch: bytes | None) -> FieldWriter:
    if not branch:
        return writer

    def write_branch(value: Any, append: Append) -> None:
        append(branch)
        writer(value, append)

    return write_branch


def _union_writer(branches: list[Any], path: str) -> FieldWriter:
    names = [b if isinstance(b, str) else b.get("type") for b in branches]
    if len(branches) == 2 and names[0] == "null":  # the common case: nullable X
        inner = _writer(branches[1], path, _varint(2))

        def write_nullable(value: Any, append: Append) -> None:
            if value is None:
                append(b"\x00")
            else:
                inner(value, append)

        return write_nullable
    options = [(_accepts(b), _writer(b, path, zigzag(i))) for i, b in enumerate(branches)]

    def write_union(value: Any, append: Append) -> None:
        for accepts, write in options:
            if accepts(value):
                write(value, append)
                return
        raise FieldTypeError(path)

    return write_union


def _array_writer(items: Any, path: str) -> FieldWriter:
    item_writer = _writer(items, f"{path}[]")

    def write_array(value: Any, append: Append) -> None:
        if type(value) is not list:
            raise FieldTypeError(path)
        if value:
            append(zigzag(len(value)))
            for item in value:
                item_writer(item, append)
        append(b"\x00")

    return write_array


def _record_fields_writer(schema: dict[str, Any], prefix: str) -> FieldWriter:
    fields = []
    for field in schema["fields"]:
        path = f"{prefix}.{field['name']}" if prefix else field["name"]
        fields.append((field["name"], _writer(field["type"], path), field.get("default")))

    def write_record(value: Any, append: Append) -> None:
        if type(value) is not dict:
            raise FieldTypeError(prefix or "(record)")
        get = value.get
        for name, write, default in fields:
            item = get(name, default)
            write(item, append)

    return write_record


FieldEncoder = Callable[[Any], bytes]
Lookup = Callable[[Any], bytes | None]
ColumnWriter = Callable[[dict[str, list[Any]], int], list[bytes]]
ENCODED_CACHE = 4096
"""Distinct short strings per top-level field whose encoded bytes are kept (values repeat: show names, types)."""
CACHED_STRING_BYTES = 64
"""Longer strings (tokens, free text) rarely repeat: encoded each time, never cached."""


def _field_encoder(avro_type: Any, path: str) -> tuple[FieldEncoder, Lookup | None]:
    """value → the field's Avro bytes, and for a (nullable) string the look-up of its remembered bytes (a
    value seen before costs one dict look-up, and a column of them one `map`); any other type runs its
    FieldWriter into a list."""
    nullable = isinstance(avro_type, list) and len(avro_type) == 2 and avro_type[0] == "null"
    if avro_type == "string" or (nullable and avro_type[1] == "string"):
        return _cached_string_encoder(path, nullable)
    writer, join = _writer(avro_type, path), b"".join

    def encode(value: Any) -> bytes:
        parts: list[bytes] = []
        writer(value, parts.append)
        return join(parts)

    return encode, None


def _cached_string_encoder(path: str, nullable: bool) -> tuple[FieldEncoder, Lookup]:
    write_string = _string_writer(path, _varint(2) if nullable else None)  # the one place a string is encoded
    cache: dict[str, bytes] = {}
    cached, join = cache.get, b"".join

    def encode_string(value: Any) -> bytes:
        try:
            found = cached(value)  # keys are str only: no other value can match one
        except TypeError:  # unhashable (a list, a dict)
            raise FieldTypeError(path) from None
        if found is not None:
            return found
        if value is None and nullable:
            return b"\x00"
        parts: list[bytes] = []
        write_string(value, parts.append)
        encoded = join(parts)
        if len(encoded) <= CACHED_STRING_BYTES:
            if len(cache) >= ENCODED_CACHE:
                cache.clear()
            cache[value] = encoded
        return encoded

    return encode_string, cached


def _top_level(schema: dict[str, Any]) -> list[tuple[str, FieldEncoder, Lookup | None, Any]] | None:
    """(name, encoder, cached bytes look-up or None, default) per top-level field of a record schema, or None
    if a type is unsupported."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        return None
    try:
        return [(f["name"], *_field_encoder(f["type"], f["name"]), f.get("default")) for f in schema["fields"]]
    except (_Unsupported, KeyError, TypeError):
        return None


def compile_writer(schema: dict[str, Any]) -> RecordWriter | None:
    """A function record → Avro binary body for this record schema, or None if it uses unsupported types."""
    fields = _top_level(schema)
    if fields is None:
        return None
    join = b"".join

    def write(record: dict[str, Any]) -> bytes:
        if type(record) is not dict:
            raise FieldTypeError("(record)")
        get = record.get
        return join([encode(get(name, default)) for name, encode, _, default in fields])

    return write


def compile_batch_writer(schema: dict[str, Any], header: bytes = b"") -> ColumnWriter | None:
    """Like `compile_writer`, for a batch given by field: `write(columns, count)`, `columns` mapping a field
    name to its values, one per record (a field without a column takes its default). Each field's encoder
    runs over its column, then one join per record, each body after `header`. The same field encoders as
    `compile_writer`, so the same bytes; FieldTypeError if any value does not fit (the caller then encodes
    record by record to find which)."""
    fields = _top_level(schema)
    if fields is None:
        return None
    join = b"".join

    def write_columns(columns: dict[str, list[Any]], count: int) -> list[bytes]:
        encoded: list[list[bytes]] = [[header] * count]
        for name, encode, lookup, default in fields:
            values = columns.get(name)
            if values is None:
                encoded.append([encode(default)] * count)
            elif lookup is None:
                encoded.append(list(map(encode, values)))
            else:  # remembered bytes first, in one pass; only the values not seen before are encoded
                column: list[Any] = list(map(lookup, values))
                if None in column:
                    column = [done if done is not None else encode(v) for done, v in zip(column, values, strict=True)]
                encoded.append(column)
        return list(map(join, zip(*encoded, strict=True)))

    return write_columns
