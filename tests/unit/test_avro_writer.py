"""The compiled Avro writer: what it writes, fastavro reads back (and byte for byte what fastavro writes)."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.domains import parse_domains
from deid.policy import Policy
from pipelines.avro import AvroEncodeError, ConfluentAvroEncoder, anonymised_schema, decode_confluent
from pipelines.avro_writer import FieldTypeError, compile_writer, zigzag

NESTED = {
    "type": "record",
    "name": "outer",
    "fields": [
        {"name": "s", "type": "string"},
        {"name": "ns", "type": ["null", "string"], "default": None},
        {"name": "i", "type": ["null", "int"], "default": None},
        {"name": "l", "type": "long"},
        {"name": "d", "type": ["null", "double"], "default": None},
        {"name": "b", "type": "boolean"},
        {"name": "either", "type": ["null", "long", "string"], "default": None},
        {"name": "tags", "type": ["null", {"type": "array", "items": "string"}], "default": None},
        {
            "name": "inner",
            "type": [
                "null",
                {"type": "record", "name": "inner_r", "fields": [{"name": "x", "type": ["null", "string"]}]},
            ],
            "default": None,
        },
        {
            "name": "items",
            "type": [
                "null",
                {
                    "type": "array",
                    "items": ["null", {"type": "record", "name": "item_r", "fields": [{"name": "n", "type": "int"}]}],
                },
            ],
            "default": None,
        },
        {"name": "flag", "type": "boolean", "default": False},
    ],
}
PARSED = fastavro.parse_schema(NESTED)
WRITE = compile_writer(NESTED)
text = st.text(max_size=300)
ints = st.integers(-(2**31), 2**31 - 1)
longs = st.integers(-(2**63), 2**63 - 1)
records = st.fixed_dictionaries(
    {
        "s": text,
        "ns": st.none() | text,
        "i": st.none() | ints,
        "l": longs,
        "d": st.none() | st.floats(allow_nan=False) | ints,
        "b": st.booleans(),
        "either": st.none() | longs | text,
        "tags": st.none() | st.lists(text, max_size=5),
        "inner": st.none() | st.fixed_dictionaries({"x": st.none() | text}),
        "items": st.none() | st.lists(st.none() | st.fixed_dictionaries({"n": ints}), max_size=4),
    },
    optional={"flag": st.booleans()},
)


def fastavro_bytes(record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, PARSED, record)
    return buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(records)
def test_round_trips_through_fastavro_and_matches_its_bytes(record: dict[str, Any]) -> None:
    assert WRITE is not None
    body = WRITE(record)
    decoded = fastavro.schemaless_reader(io.BytesIO(body), PARSED, None)
    expected = {**record, "flag": record.get("flag", False)}
    if isinstance(expected["d"], int):
        expected["d"] = float(expected["d"])
    assert decoded == expected
    assert body == fastavro_bytes(record)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("s", 5),
        ("s", None),
        ("s", "\ud800"),  # a lone surrogate is not UTF-8
        ("i", 2**31),
        ("i", True),
        ("l", 1.5),
        ("d", "1.5"),
        ("b", 1),
        ("either", 2.5),
        ("tags", "not a list"),
        ("inner", {"x": 3}),
        ("items", [{"n": "1"}]),
    ],
)
def test_wrong_types_name_the_field_never_the_value(field: str, value: Any) -> None:
    record = {"s": "a", "l": 1, "b": True, field: value}
    assert WRITE is not None
    with pytest.raises(FieldTypeError) as caught:
        WRITE(record)
    assert caught.value.path.split(".")[0].removesuffix("[]") == field
    encoder = ConfluentAvroEncoder(NESTED, 7)
    with pytest.raises(AvroEncodeError, match=rf"field '{field}") as error:
        encoder.encode(record)
    assert repr(value) not in str(error.value) or repr(value) in {"1", "True"}


def test_unsupported_schemas_fall_back_to_fastavro() -> None:
    with_map = {"type": "record", "name": "m", "fields": [{"name": "m", "type": {"type": "map", "values": "int"}}]}
    assert compile_writer(with_map) is None
    assert compile_writer({"type": "record", "name": "r", "fields": [{"name": "ref", "type": "other.Named"}]}) is None
    encoder = ConfluentAvroEncoder(with_map, 3)
    assert decode_confluent(encoder.encode({"m": {"a": 1}}), with_map) == (3, {"m": {"a": 1}})


def test_zigzag_varints_match_the_spec() -> None:
    assert [zigzag(n) for n in (0, -1, 1, -2, 2, 63, -64, 64)] == [
        b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x7e", b"\x7f", b"\x80\x01",
    ]  # fmt: skip
    assert zigzag(2**63 - 1) == b"\xfe" + b"\xff" * 8 + b"\x01"


def test_every_anonymised_schema_of_the_example_policies_compiles() -> None:
    from pathlib import Path

    from deid.domains import load_registry

    registry = load_registry()
    for path in sorted(Path("pipelines/policies").glob("*.yaml")):
        policy = Policy.load(path)
        domain = registry.get(policy.domain)
        for purpose in [None, *(p.name for p in policy.purposes)]:
            assert compile_writer(anonymised_schema(domain, policy, purpose)) is not None, (path, purpose)


def test_consent_union_of_different_types() -> None:
    domain = parse_domains(
        {"d": {"subject_field": None, "consent": {"field": "ok", "kind": "boolean"},
               "fields": {"n": {"type": "int"}, "ok": {"type": "boolean"}}}}, "test"
    )["d"]  # fmt: skip
    policy = Policy(
        domain="d",
        version=1,
        status="published",
        rules={
            "n": {"min_consent_level": 1, "with_consent": {"treatment": "keep"},
                  "without_consent": {"treatment": "redact", "params": {"flag": True}}},
            "ok": {"treatment": "keep"},
        },
    )  # fmt: skip
    schema = anonymised_schema(domain, policy)
    encoder = ConfluentAvroEncoder(schema, 1)
    for record in ({"n": 5, "ok": True, "data_redacted": False}, {"n": "REDACTED", "ok": False, "data_redacted": True}):
        assert decode_confluent(encoder.encode(record), schema) == (1, record)
