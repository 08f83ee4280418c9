"""Avro schema resolution (reader vs writer) and Confluent compatibility levels, table-driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.registry.avro_schema import AvroSchema
from catalog.registry.compatibility import (
    CompatibilityLevel,
    IncompatibilityType,
    PreviousVersion,
    check_compatibility,
    reader_writer_incompatibilities,
)


def avro(schema: Any) -> AvroSchema:
    return AvroSchema.parse(json.dumps(schema))


def record(*fields: dict[str, Any], name: str = "User", **extra: Any) -> AvroSchema:
    return avro({"type": "record", "name": name, "namespace": "deid.test", "fields": list(fields), **extra})


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(*symbols: str, **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "Kind", "symbols": list(symbols), **extra}


def fixed(size: int, name: str = "Hash") -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size}


# (case, reader, writer, expected incompatibility types, expected path of the first one)
RESOLUTION_CASES: list[tuple[str, AvroSchema, AvroSchema, list[IncompatibilityType], str | None]] = [
    # records: fields added, removed, renamed
    ("same record", record(f("a", "string")), record(f("a", "string")), [], None),
    (
        "reader adds field with default",
        record(f("a", "string"), f("b", "int", default=0)),
        record(f("a", "string")),
        [],
        None,
    ),
    (
        "reader adds field without default",
        record(f("a", "string"), f("b", "int")),
        record(f("a", "string")),
        [IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE],
        "/fields/1",
    ),
    ("reader drops a writer field", record(f("a", "string")), record(f("a", "string"), f("b", "int")), [], None),
    (
        "field renamed with an alias",
        record(f("full_name", "string", aliases=["name"])),
        record(f("name", "string")),
        [],
        None,
    ),
    (
        "field renamed without an alias",
        record(f("full_name", "string")),
        record(f("name", "string")),
        [IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE],
        "/fields/0",
    ),
    (
        "field order does not matter",
        record(f("b", "int"), f("a", "string")),
        record(f("a", "string"), f("b", "int")),
        [],
        None,
    ),
    (
        "record renamed with an alias",
        record(f("a", "int"), name="Person", aliases=["User"]),
        record(f("a", "int")),
        [],
        None,
    ),
    (
        "record renamed without an alias",
        record(f("a", "int"), name="Person"),
        record(f("a", "int")),
        [IncompatibilityType.NAME_MISMATCH],
        "/name",
    ),
    (
        "namespace change keeps the unqualified name",
        avro({"type": "record", "name": "other.ns.User", "fields": [f("a", "int")]}),
        record(f("a", "int")),
        [],
        None,
    ),
    # primitive promotions and mismatches
    *[
        (f"promotion {writer} -> {reader}", record(f("x", reader)), record(f("x", writer)), [], None)
        for writer, reader in [
            ("int", "long"),
            ("int", "float"),
            ("int", "double"),
            ("long", "float"),
            ("long", "double"),
            ("float", "double"),
            ("string", "bytes"),
            ("bytes", "string"),
        ]
    ],
    *[
        (
            f"no promotion {writer} -> {reader}",
            record(f("x", reader)),
            record(f("x", writer)),
            [IncompatibilityType.TYPE_MISMATCH],
            "/fields/0/type",
        )
        for writer, reader in [
            ("long", "int"),
            ("double", "float"),
            ("float", "long"),
            ("int", "boolean"),
            ("string", "int"),
            ("null", "string"),
            ("int", "string"),
        ]
    ],
    (
        "logical type reads as its base type",
        record(f("t", {"type": "long", "logicalType": "timestamp-millis"})),
        record(f("t", "long")),
        [],
        None,
    ),
    # unions
    (
        "reader union gains a branch",
        record(f("x", ["null", "string", "int"])),
        record(f("x", ["null", "string"])),
        [],
        None,
    ),
    (
        "reader union loses a branch",
        record(f("x", ["null", "string"])),
        record(f("x", ["null", "string", "int"])),
        [IncompatibilityType.MISSING_UNION_BRANCH],
        "/fields/0/type/2",
    ),
    ("non-union to union", record(f("x", ["null", "string"], default=None)), record(f("x", "string")), [], None),
    ("union to non-union, every branch readable", record(f("x", "long")), record(f("x", ["int", "long"])), [], None),
    (
        "union to non-union, a branch unreadable",
        record(f("x", "string")),
        record(f("x", ["null", "string"])),
        [IncompatibilityType.TYPE_MISMATCH],
        "/fields/0/type/0",
    ),
    ("writer type promoted into a reader branch", record(f("x", ["null", "long"])), record(f("x", "int")), [], None),
    (
        "reader union lacks the writer type",
        record(f("x", ["null", "string"])),
        record(f("x", "int")),
        [IncompatibilityType.MISSING_UNION_BRANCH],
        "/fields/0/type",
    ),
    # enums
    ("reader enum gains a symbol", record(f("k", enum("A", "B", "C"))), record(f("k", enum("A", "B"))), [], None),
    (
        "reader enum loses a symbol",
        record(f("k", enum("A", "B"))),
        record(f("k", enum("A", "B", "C"))),
        [IncompatibilityType.MISSING_ENUM_SYMBOLS],
        "/fields/0/type/symbols",
    ),
    (
        "reader enum loses a symbol but has an enum default",
        record(f("k", enum("A", "B", "UNKNOWN", default="UNKNOWN"))),
        record(f("k", enum("A", "B", "C"))),
        [],
        None,
    ),
    (
        "enum renamed",
        record(f("k", {**enum("A"), "name": "Category"})),
        record(f("k", enum("A"))),
        [IncompatibilityType.NAME_MISMATCH],
        "/fields/0/type/name",
    ),
    # arrays and maps, recursively
    (
        "array items promoted",
        record(f("xs", {"type": "array", "items": "long"})),
        record(f("xs", {"type": "array", "items": "int"})),
        [],
        None,
    ),
    (
        "array items narrowed",
        record(f("xs", {"type": "array", "items": "int"})),
        record(f("xs", {"type": "array", "items": "long"})),
        [IncompatibilityType.TYPE_MISMATCH],
        "/fields/0/type/items",
    ),
    (
        "map of records gaining a defaulted field",
        record(
            f(
                "m",
                {
                    "type": "map",
                    "values": {"type": "record", "name": "V", "fields": [f("a", "int"), f("b", "int", default=1)]},
                },
            )
        ),
        record(f("m", {"type": "map", "values": {"type": "record", "name": "V", "fields": [f("a", "int")]}})),
        [],
        None,
    ),
    (
        "map values changed",
        record(f("m", {"type": "map", "values": "string"})),
        record(f("m", {"type": "map", "values": "double"})),
        [IncompatibilityType.TYPE_MISMATCH],
        "/fields/0/type/values",
    ),
    (
        "array vs map",
        record(f("c", {"type": "map", "values": "int"})),
        record(f("c", {"type": "array", "items": "int"})),
        [IncompatibilityType.TYPE_MISMATCH],
        "/fields/0/type",
    ),
    # fixed
    ("fixed unchanged", record(f("h", fixed(16))), record(f("h", fixed(16))), [], None),
    (
        "fixed size changed",
        record(f("h", fixed(32))),
        record(f("h", fixed(16))),
        [IncompatibilityType.FIXED_SIZE_MISMATCH],
        "/fields/0/type/size",
    ),
    (
        "fixed renamed",
        record(f("h", fixed(16, "Digest"))),
        record(f("h", fixed(16))),
        [IncompatibilityType.NAME_MISMATCH],
        "/fields/0/type/name",
    ),
    (
        "fixed vs bytes",
        record(f("h", "bytes")),
        record(f("h", fixed(16))),
        [IncompatibilityType.TYPE_MISMATCH],
        "/fields/0/type",
    ),
]


@pytest.mark.parametrize(
    ("reader", "writer", "expected", "path"), [c[1:] for c in RESOLUTION_CASES], ids=[c[0] for c in RESOLUTION_CASES]
)
def test_schema_resolution(
    reader: AvroSchema, writer: AvroSchema, expected: list[IncompatibilityType], path: str | None
) -> None:
    found = reader_writer_incompatibilities(reader, writer)
    assert [p.type for p in found] == expected
    if path is not None:
        assert found[0].path == path


def linked_list(*extra_fields: dict[str, Any]) -> AvroSchema:
    node_fields = [f("value", "int"), f("next", ["null", "Node"], default=None), *extra_fields]
    return avro({"type": "record", "name": "Node", "fields": node_fields})


def test_recursive_types_terminate_and_compare() -> None:
    assert reader_writer_incompatibilities(linked_list(f("label", "string", default="")), linked_list()) == []
    found = reader_writer_incompatibilities(linked_list(f("label", "string")), linked_list())
    assert [(p.type, p.path) for p in found] == [(IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE, "/fields/2")]


def test_named_type_reference_is_checked_where_it_is_used() -> None:
    address = {"type": "record", "name": "Address", "fields": [f("city", "string")]}
    writer = record(f("home", address), f("work", "Address"))
    narrowed = {"type": "record", "name": "Address", "fields": [f("city", "string"), f("zip", "string")]}
    reader = record(f("home", narrowed), f("work", "Address"))
    found = reader_writer_incompatibilities(reader, writer)
    assert [(p.type, p.info) for p in found] == [(IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE, "zip")]


def test_message_names_the_schemas_as_confluent_does() -> None:
    (problem,) = reader_writer_incompatibilities(record(f("a", "string"), f("age", "int")), record(f("a", "string")))
    assert problem.describe("new schema", "old schema") == (
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'age' at path '/fields/1' in the "
        "new schema has no default value and is missing in the old schema', additionalInfo:'age'}"
    )


# --- compatibility levels ------------------------------------------------------------------------

BASE = record(f("id", "string"), f("score", "int"), f("note", "string", default=""), f("kind", enum("A", "B")))

# (case, new schema, {level: compatible?}) — each against BASE as the only previous version
EVOLUTIONS: list[tuple[str, AvroSchema, dict[str, bool]]] = [
    (
        "add field with default",
        record(
            f("id", "string"),
            f("score", "int"),
            f("note", "string", default=""),
            f("kind", enum("A", "B")),
            f("x", "int", default=0),
        ),
        {"BACKWARD": True, "FORWARD": True, "FULL": True},
    ),
    (
        "add field without default",
        record(
            f("id", "string"),
            f("score", "int"),
            f("note", "string", default=""),
            f("kind", enum("A", "B")),
            f("x", "int"),
        ),
        {"BACKWARD": False, "FORWARD": True, "FULL": False},
    ),
    (
        "remove field that has a default",
        record(f("id", "string"), f("score", "int"), f("kind", enum("A", "B"))),
        {"BACKWARD": True, "FORWARD": True, "FULL": True},
    ),
    (
        "remove field without default",
        record(f("id", "string"), f("note", "string", default=""), f("kind", enum("A", "B"))),
        {"BACKWARD": True, "FORWARD": False, "FULL": False},
    ),
    (
        "promote int to long",
        record(f("id", "string"), f("score", "long"), f("note", "string", default=""), f("kind", enum("A", "B"))),
        {"BACKWARD": True, "FORWARD": False, "FULL": False},
    ),
    (
        "string to bytes",
        record(f("id", "bytes"), f("score", "int"), f("note", "string", default=""), f("kind", enum("A", "B"))),
        {"BACKWARD": True, "FORWARD": True, "FULL": True},
    ),
    (
        "narrow int to string",
        record(f("id", "string"), f("score", "string"), f("note", "string", default=""), f("kind", enum("A", "B"))),
        {"BACKWARD": False, "FORWARD": False, "FULL": False},
    ),
    (
        "add enum symbol",
        record(f("id", "string"), f("score", "int"), f("note", "string", default=""), f("kind", enum("A", "B", "C"))),
        {"BACKWARD": True, "FORWARD": False, "FULL": False},
    ),
    (
        "remove enum symbol",
        record(f("id", "string"), f("score", "int"), f("note", "string", default=""), f("kind", enum("A"))),
        {"BACKWARD": False, "FORWARD": True, "FULL": False},
    ),
    (
        "make a field nullable (union gains null)",
        record(
            f("id", ["string", "null"]), f("score", "int"), f("note", "string", default=""), f("kind", enum("A", "B"))
        ),
        {"BACKWARD": True, "FORWARD": False, "FULL": False},
    ),
]

LEVEL_CASES = [
    (name, new, level, compatible)
    for name, new, expected in EVOLUTIONS
    for base_level, compatible in expected.items()
    for level in (base_level, f"{base_level}_TRANSITIVE")  # one previous version: transitive = plain
] + [(name, new, "NONE", True) for name, new, _ in EVOLUTIONS]


@pytest.mark.parametrize(
    ("new", "level", "compatible"), [c[1:] for c in LEVEL_CASES], ids=[f"{c[2]}: {c[0]}" for c in LEVEL_CASES]
)
def test_levels_against_one_previous_version(new: AvroSchema, level: str, compatible: bool) -> None:
    messages = check_compatibility(CompatibilityLevel(level), new, [PreviousVersion(1, BASE)])
    assert (messages == []) is compatible
    if not compatible:
        assert messages[-3:] == [
            "{oldSchemaVersion: 1}",
            f"{{oldSchema: '{BASE.text}'}}",
            f"{{compatibility: '{level}'}}",
        ]


# Histories where only the transitive level sees the problem (oldest first, then the candidate).
BACKWARD_CHAIN = [
    record(f("a", "string")),
    record(f("a", "string"), f("b", "string", default="x")),
    record(f("a", "string"), f("b", "string")),  # reads v2 but not v1 (b has no default)
]
FORWARD_CHAIN = [
    record(f("a", "string"), f("c", "string")),
    record(f("a", "string"), f("c", "string", default="")),
    record(f("a", "string")),  # v2 reads it (c defaults); v1 does not (c has no default there)
]


@pytest.mark.parametrize(
    ("chain", "level", "compatible", "failing_version"),
    [
        (BACKWARD_CHAIN, "BACKWARD", True, None),
        (BACKWARD_CHAIN, "BACKWARD_TRANSITIVE", False, 1),
        (BACKWARD_CHAIN, "FULL", True, None),
        (BACKWARD_CHAIN, "FULL_TRANSITIVE", False, 1),
        (FORWARD_CHAIN, "FORWARD", True, None),
        (FORWARD_CHAIN, "FORWARD_TRANSITIVE", False, 1),
        (FORWARD_CHAIN, "NONE", True, None),
    ],
)
def test_transitive_levels_check_every_previous_version(
    chain: list[AvroSchema], level: str, compatible: bool, failing_version: int | None
) -> None:
    previous = [PreviousVersion(i + 1, s) for i, s in enumerate(chain[:-1])]
    messages = check_compatibility(CompatibilityLevel(level), chain[-1], previous)
    assert (messages == []) is compatible
    if failing_version is not None:
        assert f"{{oldSchemaVersion: {failing_version}}}" in messages


def test_forward_messages_call_the_old_schema_the_reader() -> None:
    new = record(f("a", "string"))
    old = record(f("a", "string"), f("gone", "int"))
    messages = check_compatibility(CompatibilityLevel.FORWARD, new, [PreviousVersion(3, old)])
    assert "in the old schema has no default value and is missing in the new schema" in messages[0]


def test_no_previous_version_is_always_compatible() -> None:
    assert check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, BASE, []) == []


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("backward", "BACKWARD"),
        (" Full_Transitive ", "FULL_TRANSITIVE"),
        ("none", "NONE"),
        ("sideways", None),
        (3, None),
    ],
)
def test_level_names(text: object, level: str | None) -> None:
    parsed = CompatibilityLevel.parse(text)
    assert (parsed.value if parsed else None) == level
