"""Avro schemas from profiles; offset plans for --max-events; the summary table."""

from __future__ import annotations

import json
import random

import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from deid.domains import Domain, FieldSpec
from schema_inference.avro import field_formats, profile_to_avro, record_name
from schema_inference.job import InferenceResult
from schema_inference.profile import Profile
from schema_inference.read import PartitionRange, bound_ranges
from schema_inference.summary import summary_rows, type_label

EVENTS = [
    {
        "id": 1,
        "big": 2**40,
        "price": 9.5,
        "ok": True,
        "day": "23-08-2020",
        "geo": {"lat": 1.5, "lon": 2},
        "tags": ["a"],
        "lines": [{"sku": "x", "qty": 1}],
        "counts": {"user-1": 1},
        "meta": {"geo": {"x": 1}},
        "at": "2024-01-01T10:00:00+00:00",
    },
    {
        "id": 2,
        "big": 3,
        "price": 10,
        "ok": False,
        "day": None,
        "geo": {"lat": 2.5, "lon": 3.5},
        "tags": [],
        "lines": [],
        "counts": {},
        "meta": {"geo": {"x": 2}},
        "mixed": "text",
    },
    {
        "id": 3,
        "big": 4,
        "price": 1.25,
        "ok": True,
        "day": "12-10-2020",
        "geo": {"lat": 0.5, "lon": 1.0},
        "tags": ["b", None],
        "lines": [{"sku": "y"}],
        "counts": {"user-2": None},
        "meta": {"geo": {"x": 3}},
        "mixed": 7,
    },
]


def schema_of(events: list[dict[str, object]], domain: str = "channel") -> dict[str, object]:
    profile = Profile(10).add_all((json.dumps(e).encode(), 0, i) for i, e in enumerate(events))
    return profile_to_avro(profile.summary(), domain)


def fields(schema: dict[str, object]) -> dict[str, object]:
    return {f["name"]: f for f in schema["fields"]}  # type: ignore[index,union-attr]


def test_names_types_and_nullable_unions() -> None:
    schema = schema_of(EVENTS)
    assert (schema["namespace"], schema["name"]) == ("deid.channel", "ChannelRaw")
    assert record_name("click_stream") == ("deid.click_stream", "ClickStreamRaw")
    by_name = fields(schema)
    assert by_name["id"]["type"] == "int" and "default" not in by_name["id"]
    assert by_name["big"]["type"] == "long" and by_name["price"]["type"] == "double"
    assert by_name["ok"]["type"] == "boolean"
    assert by_name["day"] == {
        "name": "day",
        "type": ["null", {"type": "string", "deid.kind": "date", "deid.format": "%d-%m-%Y"}],
        "default": None,
    }
    assert by_name["mixed"]["type"] == ["null", "int", "string"] and by_name["mixed"]["default"] is None
    geo = by_name["geo"]["type"]
    assert geo["type"] == "record" and [f["type"] for f in geo["fields"]] == ["double", "double"]
    assert by_name["tags"]["type"] == {"type": "array", "items": ["null", "string"]}
    lines = by_name["lines"]["type"]["items"]
    assert lines["type"] == "record" and fields(lines)["qty"]["type"] == ["null", "int"]
    assert by_name["counts"]["type"] == {"type": "map", "values": ["null", "int"]}


def test_the_schema_is_valid_avro_and_every_event_conforms() -> None:
    schema = schema_of(EVENTS)
    parsed = parse_schema(schema)
    for event in EVENTS:
        assert validate(event, parsed)
    # nested records are named uniquely even when their field names repeat
    names = json.dumps(schema)
    assert '"ChannelRaw_geo"' in names and '"ChannelRaw_meta_geo"' in names


def test_date_formats_read_back_by_path() -> None:
    assert field_formats(schema_of(EVENTS)) == {
        "day": {"kind": "date", "format": "%d-%m-%Y"},
        "at": {"kind": "timestamp", "format": "%Y-%m-%dT%H:%M:%S%z"},
    }


def test_ambiguous_day_month_keeps_the_alternative() -> None:
    schema = schema_of([{"d": "01-02-2020"}, {"d": "03-04-2020"}])
    assert fields(schema)["d"]["type"] == {
        "type": "string",
        "deid.kind": "date",
        "deid.format": "%d-%m-%Y",
        "deid.format_alternatives": ["%m-%d-%Y"],
    }


def test_top_level_keys_that_are_not_avro_names_are_renamed_and_remembered() -> None:
    schema = schema_of([{"user id": 1, "user_id": 2, "1st": "x"}])
    assert [(f["name"], f.get("deid.source_name")) for f in schema["fields"]] == [  # type: ignore[union-attr]
        ("user_id_2", "user id"),
        ("user_id", None),
        ("_1st", "1st"),
    ]
    parse_schema(schema)


def test_a_field_only_ever_null_is_null() -> None:
    assert fields(schema_of([{"a": None}, {"b": 1}]))["a"] == {"name": "a", "type": "null", "default": None}


def test_bound_ranges_share_max_events_fairly() -> None:
    available = [PartitionRange(0, 10, 110), PartitionRange(1, 0, 5), PartitionRange(2, 40, 140)]
    assert bound_ranges(available, None) == available
    bounded = bound_ranges(available, 50)
    assert [r.count for r in bounded] == [23, 5, 22]  # the short partition's unused share goes to the others
    assert [r.start for r in bounded] == [10, 0, 40]  # always the earliest records
    assert sum(r.count for r in bound_ranges(available, 1000)) == 205
    assert sum(r.count for r in bound_ranges(available, 1)) == 1
    for seed in range(20):
        rng = random.Random(seed)
        parts = [PartitionRange(p, 0, rng.randint(0, 50)) for p in range(rng.randint(1, 6))]
        wanted = rng.randint(1, 200)
        got = bound_ranges(parts, wanted)
        assert sum(r.count for r in got) == min(wanted, sum(r.count for r in parts))
        assert all(0 <= g.count <= p.count for g, p in zip(got, parts, strict=True))
    with pytest.raises(ValueError, match="max_events"):
        bound_ranges(available, 0)


def test_summary_rows_show_types_formats_and_no_values() -> None:
    events = [{"name": "Jane Doe", "day": "23-08-2020", "tags": ["vip"], "n": None}, {"name": "Max Mustermann"}]
    profile = Profile(10).add_all((json.dumps(e).encode(), 0, i) for i, e in enumerate(events)).summary()
    result = InferenceResult(
        domain="x",
        topic="x-raw-data",
        schema={},
        profile=profile,
        ranges=[],
        sample_size=10,
        max_events=None,
        timings={},
    )
    domain = Domain(name="x", subject_field=None, fields={"name": FieldSpec(type="string")})
    rows = {row[0]: row for row in summary_rows(result, domain)}
    assert rows["day"][1:4] == ("string", "50%", "%d-%m-%Y")
    assert rows["tags"][1] == "array<string>" and rows["tags[]"][1] == "string"
    assert rows["name"][4:6] == ("2", "8-14")
    assert type_label(profile.field("n")) == "null"
    assert "Jane" not in repr(rows) and "Jane" not in repr(result)
