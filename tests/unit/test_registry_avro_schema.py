"""Avro schema validation and the normalised form that decides "the same schema" (same registry id)."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from catalog.registry.avro_schema import AvroSchema, InvalidSchemaError

USER = {
    "type": "record",
    "name": "User",
    "namespace": "deid.test",
    "doc": "a user",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "address",
            "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]},
        },
        {"name": "work", "type": ["null", "Address"], "default": None},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"], "default": "A"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}


def test_layout_key_order_and_name_qualification_do_not_change_identity() -> None:
    same = {
        "fields": [
            {"type": {"type": "string"}, "name": "id"},
            {
                "name": "address",
                "type": {"fields": [{"name": "city", "type": "string"}], "name": "deid.test.Address", "type": "record"},
            },
            {"default": None, "name": "work", "type": ["null", "deid.test.Address"]},
            {"name": "kind", "type": {"symbols": ["A", "B"], "type": "enum", "name": "Kind", "default": "A"}},
            {"name": "at", "type": {"logicalType": "timestamp-millis", "type": "long"}},
        ],
        "doc": "a user",
        "name": "deid.test.User",
        "type": "record",
    }
    a = AvroSchema.parse(json.dumps(USER))
    b = AvroSchema.parse(json.dumps(same, indent=4))
    assert a.text == b.text
    assert a.fingerprint == b.fingerprint
    assert set(a.names) == {"deid.test.User", "deid.test.Address", "deid.test.Kind"}
    assert '"namespace"' not in a.text  # names are fully qualified instead


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["fields"][0].update(default="none"),  # a default changes how data is read
        lambda s: s["fields"][0].update(aliases=["user_id"]),
        lambda s: s.update(doc="another doc"),  # Confluent keeps docs in a schema's identity too
        lambda s: s["fields"].append({"name": "extra", "type": "int", "default": 0}),
    ],
)
def test_meaningful_changes_change_identity(change) -> None:  # type: ignore[no-untyped-def]
    changed = json.loads(json.dumps(USER))
    change(changed)
    before, after = AvroSchema.parse(json.dumps(USER)), AvroSchema.parse(json.dumps(changed))
    assert before.fingerprint != after.fingerprint


def test_parsing_canonical_form_ignores_what_identity_keeps() -> None:
    with_default = json.loads(json.dumps(USER))
    with_default["fields"][0]["default"] = "none"
    a, b = AvroSchema.parse(json.dumps(USER)), AvroSchema.parse(json.dumps(with_default))
    assert a.parsing_canonical_form == b.parsing_canonical_form
    assert a.fingerprint != b.fingerprint


def test_normalised_text_reads_and_writes_the_same_data() -> None:
    schema = AvroSchema.parse(json.dumps(USER))
    record = {"id": "u1", "address": {"city": "Oslo"}, "work": None, "kind": "B", "at": 1_700_000_000_000}
    buffer = BytesIO()
    schemaless_writer(buffer, parse_schema(USER), record)
    buffer.seek(0)
    decoded = schemaless_reader(buffer, parse_schema(json.loads(schema.text)))
    assert decoded["address"] == {"city": "Oslo"} and decoded["kind"] == "B" and decoded["id"] == "u1"


def test_primitive_schemas() -> None:
    assert AvroSchema.parse('"string"').text == '"string"'
    assert AvroSchema.parse("string").fingerprint == AvroSchema.parse('{"type": "string"}').fingerprint


def _record(*fields: dict) -> str:
    return json.dumps({"type": "record", "name": "R", "fields": list(fields)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("{not json", "not JSON"),
        ("42", "expected a type name"),
        ('{"type": "record", "name": "R"}', "/fields: a record needs a 'fields' array"),
        ('{"type": "record", "name": "1R", "fields": []}', "/name: name '1R' is not a valid Avro name"),
        ('{"type": "record", "fields": []}', "not a valid Avro name"),
        ('{"type": "wat"}', "unknown type 'wat'"),
        (
            _record({"name": "a", "type": "int"}, {"name": "a", "type": "long"}),
            "/fields/1/name: field 'a' appears twice",
        ),
        (_record({"name": "a", "type": "Missing"}), "/fields/0/type: unknown type 'Missing'"),
        (_record({"name": "a"}), "/fields/0: field 'a' needs a 'type'"),
        (_record({"name": "a", "type": "int", "default": "x"}), "/fields/0/default: invalid default for field 'a'"),
        (_record({"name": "a", "type": "int", "default": 2**31}), "/fields/0/default"),
        (_record({"name": "a", "type": ["string", "null"], "default": None}), "must match its first type"),
        (
            _record({"name": "a", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "abc"}),
            "/fields/0/default",
        ),
        (
            _record(
                {
                    "name": "a",
                    "type": {"type": "record", "name": "In", "fields": [{"name": "x", "type": "int"}]},
                    "default": {},
                }
            ),
            "field 'x' is missing and has no default",
        ),
        (_record({"name": "a", "type": "int", "order": "sideways"}), "/fields/0/order"),
        ('["int", "int"]', "/1: the union has two branches of type 'int'"),
        ('["int", ["string"]]', "/1: a union may not contain another union"),
        ("[]", "a union needs at least one type"),
        ('{"type": "enum", "name": "E", "symbols": ["A", "A"]}', "symbols must be unique"),
        (
            '{"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}',
            "/default: the enum default must be one of",
        ),
        ('{"type": "enum", "name": "E", "symbols": ["9"]}', "/symbols/0"),
        ('{"type": "fixed", "name": "F", "size": -1}', "/size"),
        ('{"type": "array"}', "an array needs 'items'"),
        ('{"type": "map"}', "a map needs 'values'"),
        (
            _record(
                {"name": "a", "type": {"type": "fixed", "name": "F", "size": 1}},
                {"name": "b", "type": {"type": "fixed", "name": "F", "size": 2}},
            ),
            "type 'F' is defined twice",
        ),
        ('{"type": "record", "name": "int", "fields": []}', "is a primitive type name"),
    ],
)
def test_invalid_schemas_say_where_and_why(text: str, expected: str) -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        AvroSchema.parse(text)
    assert expected in str(caught.value)


def test_recursive_and_namespaced_references_resolve() -> None:
    schema = AvroSchema.parse(
        json.dumps(
            {
                "type": "record",
                "name": "Node",
                "namespace": "a.b",
                "fields": [
                    {"name": "next", "type": ["null", "Node"], "default": None},
                    {"name": "tag", "type": {"type": "fixed", "name": "Tag", "namespace": "", "size": 4}},
                    {"name": "again", "type": "Tag"},  # found in the null namespace after a.b.Tag is not
                ],
            }
        )
    )
    assert set(schema.names) == {"a.b.Node", "Tag"}
    assert schema.resolve("a.b.Node")["name"] == "a.b.Node"
    assert schema.resolve("int") == "int"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("movie-anonymised-data-value", ("movie-anonymised-data", "value")),
        ("orders-key", ("orders", "key")),
        ("deid.movie.Purchase", None),  # RecordNameStrategy: not tied to a topic
        ("-value", None),
    ],
)
def test_subject_topic(subject: str, expected: tuple[str, str] | None) -> None:
    from catalog.registry.service import subject_topic

    assert subject_topic(subject) == expected


def test_non_ascii_digits_are_not_ids_or_versions() -> None:
    """'²'.isdigit() is True but int('²') fails: such path segments are invalid, never a server error."""
    from catalog.registry.service import _schema_id, parse_version

    assert _schema_id("²") is None and _schema_id("7") == 7
    with pytest.raises(Exception, match="version"):
        parse_version("²")
