"""The anonymised Avro schema of a domain under a policy, and fast Confluent-framed encoding.

Schema: one field per rule, in the domain's field order (so the same policy gives the same schema,
and the registry the same id). Types follow the treatment: keep and generalize keep the field's type;
redact, encrypt, mask, date_shift and anonymize_text give strings; drop leaves the field out; a
consent rule's field may hold either branch's type (a union). A field is nullable unless the raw
field is known to be always present (`required_fields`, e.g. from the inferred raw schema), because a
missing raw field goes out as null. `data_redacted` (boolean, default false) is added when a redact
rule sets it. Nested paths become nested records and arrays.

Wire format (Confluent): magic byte 0, the schema id as 4 bytes big-endian, the Avro binary body.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Collection
from typing import Any

import fastavro
from fastavro import schemaless_reader, schemaless_writer

from deid.domains import Domain, FieldType
from deid.errors import DeidError
from deid.policy import (
    REDACTED_FLAG_FIELD,
    ConsentRule,
    EncryptParams,
    Policy,
    RedactParams,
    Rule,
    TreatmentRule,
    check_policy,
    rule_branches,
    split_path,
)
from pipelines.avro_writer import FieldTypeError, compile_batch_writer, compile_writer

MAGIC = 0
_HEADER = struct.Struct(">bI")
_BASE_TYPES: dict[FieldType, str] = {
    "string": "string",
    "text": "string",
    "int": "int",
    "long": "long",
    "double": "double",
    "boolean": "boolean",
    "date": "string",
    "timestamp": "string",
}
_TYPE_ORDER = ["null", "boolean", "int", "long", "double", "string"]


class AvroEncodeError(DeidError):
    """A treated record does not fit the anonymised schema; names the field, never the value."""


def output_types(rule: Rule, field_type: FieldType) -> list[str]:
    """Avro types a rule's output can take ("null" for a consent branch that drops the field)."""
    types = set()
    for branch in rule_branches(rule):
        if branch.treatment == "drop":
            types.add("null")
        elif branch.treatment in {"keep", "generalize"}:
            types.add(_BASE_TYPES[field_type])
        else:
            types.add("string")
    return sorted(types, key=_TYPE_ORDER.index)


def anonymised_schema(
    domain: Domain,
    policy: Policy,
    purpose: str | None = None,
    required_fields: Collection[str] = (),
    fpe_key_id: str | None = None,
) -> dict[str, Any]:
    """The Avro record schema of the main output, or of the named purpose's output.

    `fpe_key_id`: the `fpe.<domain>` key the plan encrypts with, written into the doc of fpe fields
    (`encrypt(fpe-digits, key k…)`): an FPE token has no room for its key id, so the record's writer
    schema carries it and re-identification still finds the right key after a rotation."""
    check_policy(policy, domain, f"policy {policy.domain} v{policy.version}")
    chosen = [p for p in policy.purposes if p.name == purpose]
    if purpose is not None and not chosen:
        raise DeidError(f"policy {policy.domain} v{policy.version} has no purpose {purpose!r}")
    rules = chosen[0].rules if chosen else policy.rules
    suffix = "anonymised" if purpose is None else purpose
    name = f"{domain.name}_{suffix}"
    tree: dict[str, Any] = {}
    flagged = False
    for path in [f for f in domain.fields if f in rules]:
        rule = rules[path]
        branches = rule_branches(rule)
        flagged |= any(isinstance(b.params, RedactParams) and b.params.flag for b in branches)
        types = output_types(rule, domain.fields[path].type)
        if types == ["null"]:
            continue  # dropped whatever the consent
        # k_anonymity: suppress may null a quasi-identifier that the raw side always has.
        suppressible = policy.k_anonymity == "suppress" and path in domain.quasi_identifiers
        if (path not in required_fields or suppressible) and "null" not in types:
            types.insert(0, "null")
        label = " or ".join(dict.fromkeys(_label(b, fpe_key_id) for b in branches))
        _place(tree, split_path(path), types, f"{label} (by consent)" if isinstance(rule, ConsentRule) else label)
    fields = _fields(tree, name)
    if flagged:
        fields.append({"name": REDACTED_FLAG_FIELD, "type": "boolean", "default": False, "doc": "deid: redacted"})
    return {
        "type": "record",
        "name": name,
        "namespace": "deid.anonymised",
        "doc": f"{domain.name} events after de-identification by deid",
        "fields": fields,
    }


def _label(branch: TreatmentRule, fpe_key_id: str | None) -> str:
    """The treatment as the schema documents it; encrypt names its mode (re-identification reads it)."""
    params = branch.params
    if not isinstance(params, EncryptParams):
        return branch.treatment
    if params.mode == "fpe" and fpe_key_id is not None:
        return f"{params.label[:-1]}, key {fpe_key_id})"
    return params.label


def _place(tree: dict[str, Any], segments: list[tuple[str, bool]], types: list[str], treatment: str) -> None:
    for key, is_array in segments[:-1]:
        node = tree.setdefault(key, {"children": {}, "array": is_array})
        tree = node["children"]
    key, is_array = segments[-1]
    tree[key] = {"types": types, "array": is_array, "treatment": treatment}


def _fields(tree: dict[str, Any], record_name: str) -> list[dict[str, Any]]:
    fields = []
    for key, node in tree.items():
        if "children" in node:
            child_name = re.sub(r"\W", "_", f"{record_name}_{key}")
            record = {"type": "record", "name": child_name, "fields": _fields(node["children"], child_name)}
            avro_type: Any = {"type": "array", "items": ["null", record]} if node["array"] else record
            fields.append({"name": key, "type": ["null", avro_type], "default": None})
            continue
        value_type: Any = node["types"][0] if len(node["types"]) == 1 else node["types"]
        if node["array"]:
            fields.append(
                {
                    "name": key,
                    "type": ["null", {"type": "array", "items": value_type}],
                    "default": None,
                    "doc": f"deid: {node['treatment']}",
                }
            )
            continue
        field: dict[str, Any] = {"name": key, "type": value_type, "doc": f"deid: {node['treatment']}"}
        if isinstance(value_type, list) and value_type[0] == "null":
            field["default"] = None
        fields.append(field)
    return fields


def required_fields_of(raw_schema: dict[str, Any]) -> set[str]:
    """Top-level field names a raw Avro record schema declares non-nullable (always present)."""
    required = set()
    for field in raw_schema.get("fields", []):
        field_type = field.get("type")
        if not (field_type == "null" or (isinstance(field_type, list) and "null" in field_type)):
            required.add(field["name"])
    return required


def confluent_frame(schema_id: int, body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, schema_id) + body


class ConfluentAvroEncoder:
    """Encode records with one schema into Confluent wire format (schema compiled once).

    `encode(record) -> bytes` uses the compiled writer of `avro_writer` when the schema allows (it does
    for every anonymised schema), else fastavro. Either way a record that does not fit raises
    AvroEncodeError naming the field, never the value. `encode_batch(records)` and `encode_columns(columns,
    count)` give the same bytes for a batch, column by column, with an AvroEncodeError in the place of each
    record that does not fit.
    """

    def __init__(self, schema: dict[str, Any], schema_id: int) -> None:
        self.schema = schema
        self.schema_id = schema_id
        self._parsed = fastavro.parse_schema(schema)
        self._header = _HEADER.pack(MAGIC, schema_id)
        write = compile_writer(schema)
        self.encode: Callable[[dict[str, Any]], bytes] = (
            self._fastavro_encode if write is None else _compiled_encoder(self._header, write)
        )
        self._write_columns = compile_batch_writer(schema, self._header)
        self._fields = [(field["name"], field.get("default")) for field in schema["fields"]]

    def encode_batch(self, records: list[dict[str, Any]]) -> list[bytes | AvroEncodeError]:
        """Each record's Confluent-framed bytes, or the AvroEncodeError that `encode` raises for it."""
        if self._write_columns is not None and all(type(record) is dict for record in records):
            columns = {name: [record.get(name, default) for record in records] for name, default in self._fields}
            return self.encode_columns(columns, len(records))
        return [_encoded_or_error(self.encode, record) for record in records]

    def encode_columns(self, columns: dict[str, list[Any]], count: int) -> list[bytes | AvroEncodeError]:
        """`encode_batch` for a batch given by field (field name → its values, one per record)."""
        if self._write_columns is not None:
            try:
                return self._write_columns(columns, count)  # type: ignore[return-value]
            except Exception:  # some value does not fit: record by record, to say which
                pass
        names = list(columns)
        records = [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)] or [
            {} for _ in range(count)
        ]
        return [_encoded_or_error(self.encode, record) for record in records]

    def _fastavro_encode(self, record: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        buffer.write(self._header)
        problem = None
        try:
            schemaless_writer(buffer, self._parsed, record)
        except Exception as exc:  # fastavro's messages quote the value: keep only the field name
            match = re.search(r" on field (\w+)$", str(exc))
            problem = f"field {match.group(1)!r}" if match else type(exc).__name__
        if problem is not None:
            raise AvroEncodeError(f"record does not fit the anonymised schema: {problem}")
        return buffer.getvalue()


def _compiled_encoder(header: bytes, write: Callable[[dict[str, Any]], bytes]) -> Callable[[dict[str, Any]], bytes]:
    def encode(record: dict[str, Any]) -> bytes:
        try:
            return header + write(record)
        except FieldTypeError as exc:
            problem = f"field {exc.path!r}"
        except Exception as exc:  # e.g. OverflowError of a huge int in a double field; never show the value
            problem = type(exc).__name__
        raise AvroEncodeError(f"record does not fit the anonymised schema: {problem}")

    return encode


def _encoded_or_error(encode: Callable[[dict[str, Any]], bytes], record: dict[str, Any]) -> bytes | AvroEncodeError:
    try:
        return encode(record)
    except AvroEncodeError as exc:
        return exc


def decode_confluent(data: bytes, schema: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(schema id, record) from Confluent-framed Avro written with `schema`."""
    if len(data) < _HEADER.size or data[0] != MAGIC:
        raise ValueError("not Confluent-framed Avro (magic byte 0 and a 4-byte schema id)")
    _, schema_id = _HEADER.unpack_from(data)
    record = schemaless_reader(io.BytesIO(data[_HEADER.size :]), fastavro.parse_schema(schema))
    return schema_id, record  # type: ignore[return-value]
