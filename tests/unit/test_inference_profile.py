"""The profiler: types, nulls, nesting, maps, date formats, corrupt records, samples and merging."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from schema_inference.formats import consistent_formats
from schema_inference.profile import MAX_DEPTH, Profile, merge_all
from schema_inference.reservoir import Reservoir
from schema_inference.stats import MAP_KEY_LIMIT


def profile_of(records: list[object], sample: int = 1000, seed: int = 0) -> Profile:
    raw = [r if isinstance(r, bytes | None) else json.dumps(r).encode() for r in records]
    return Profile(sample, seed).add_all((value, 0, offset) for offset, value in enumerate(raw))


def formats(*values: str) -> list[str]:
    found = consistent_formats(values[0])
    for value in values[1:]:
        found = consistent_formats(value, found)
    return [f.format for f in found]


def test_day_and_month_order_is_settled_by_a_value_over_12() -> None:
    assert formats("12-10-2020", "23-08-2020") == ["%d-%m-%Y"]
    assert formats("10-12-2020", "08-23-2020") == ["%m-%d-%Y"]
    assert formats("01-02-2020", "03-04-2021") == ["%d-%m-%Y", "%m-%d-%Y"]  # still open: both kept
    assert formats("1985-03-12", "2001-12-31") == ["%Y-%m-%d"]


def test_repeated_dates_are_checked_once_and_later_values_still_narrow_or_break_the_format() -> None:
    ambiguous = [{"day": f"0{d}-0{m}-2020"} for d in range(1, 10) for m in range(1, 10)] * 60  # over 2 batches
    opened = profile_of(ambiguous).summary().field("day")
    assert (opened.format, opened.format_alternatives) == ("%d-%m-%Y", ["%m-%d-%Y"])
    settled = profile_of([*ambiguous, {"day": "25-12-2020"}]).summary().field("day")
    assert (settled.format, settled.format_alternatives) == ("%d-%m-%Y", [])
    broken = profile_of([*ambiguous, {"day": "soon"}, *ambiguous]).summary().field("day")
    assert broken.format is None and broken.kind is None
    left, right = profile_of(ambiguous), profile_of([*ambiguous, {"day": "12-25-2020"}])
    merged = left.merge(right).summary().field("day")
    assert (merged.format, merged.format_alternatives) == ("%m-%d-%Y", [])


def test_impossible_dates_and_non_dates_match_no_format() -> None:
    assert formats("31-02-2020") == [] and formats("29-02-2021") == [] and formats("29-02-2020") == ["%d-%m-%Y"]
    for value in ("9-1-1", "user-12345", "2020-13-01", "Barry", "12/10/20", "2020-01-01T25:00:00"):
        assert formats(value) == [], value


def test_timestamps_with_and_without_zone_and_fraction() -> None:
    assert formats("2024-03-01T10:11:12+00:00", "2024-03-01T10:11:12Z") == ["%Y-%m-%dT%H:%M:%S%z"]
    assert formats("2024-03-01T10:11:12.123456+0100") == ["%Y-%m-%dT%H:%M:%S.%f%z"]
    assert formats("2024-03-01 10:11:12") == ["%Y-%m-%d %H:%M:%S"]


def test_types_nulls_missing_and_int_versus_long() -> None:
    summary = profile_of(
        [
            {"n": 1, "big": 2**40, "x": 1.5, "ok": True, "s": "a", "maybe": None},
            {"n": 2, "big": 3, "x": 2, "ok": False, "s": "b"},
            {"n": -(2**31), "big": 5, "x": 3.0, "ok": True, "s": "c", "maybe": "here"},
        ]
    ).summary()
    by_path = {f.path: f for f in summary.walk()}
    assert by_path["n"].types == {"int": 3}
    assert by_path["big"].types == {"long": 3} and by_path["big"].int_max == 2**40
    assert by_path["x"].types == {"double": 2, "int": 1}
    assert by_path["ok"].types == {"boolean": 3}
    maybe = by_path["maybe"]
    assert (maybe.count, maybe.nulls, maybe.missing, maybe.nullable) == (2, 1, 1, True)
    assert not by_path["s"].nullable
    assert [f.path for f in summary.fields] == ["n", "big", "x", "ok", "s", "maybe"]  # first-seen order


def test_nested_records_arrays_and_maps_get_paths() -> None:
    many_keys = {f"k{i}": i for i in range(MAP_KEY_LIMIT + 1)}
    summary = profile_of(
        [
            {
                "geo": {"lat": 1.5, "lon": 2.5},
                "tags": ["a", "b"],
                "items": [{"sku": "x", "qty": 1}],
                "m": {"user-1": 1},
            },
            {"geo": {"lat": 3.5}, "tags": [], "items": [], "m": {"user-2": 2, "user-3": None}, "wide": many_keys},
        ]
    ).summary()
    by_path = {f.path: f for f in summary.walk()}
    assert by_path["geo"].types == {"record": 2}
    assert by_path["geo.lon"].missing == 1 and by_path["geo.lat"].missing == 0
    assert by_path["tags"].types == {"array": 2} and by_path["tags[]"].types == {"string": 2}
    assert by_path["items[].sku"].types == {"string": 1} and by_path["items[].qty"].types == {"int": 1}
    # keys that are not Avro names, or too many keys: a map, not a record
    assert by_path["m"].types == {"map": 2} and by_path["m{}"].types == {"int": 2, "null": 1}
    assert by_path["wide"].types == {"map": 1} and by_path["wide{}"].count == MAP_KEY_LIMIT + 1
    assert "m.user-1" not in by_path


def test_corrupt_records_are_counted_with_masked_examples_only() -> None:
    secret = "Jane Doe 0612345678"
    profile = profile_of(
        [{"a": 1}, secret.encode(), b"\xff\xfe" + secret.encode("utf-16"), b'["Jane", "Doe"]', b"", None, {"a": 2}]
    )
    summary = profile.summary()
    assert (summary.events, summary.valid, summary.corrupt) == (7, 2, 5)
    assert summary.corrupt_reasons == {"empty": 2, "not JSON": 1, "not UTF-8": 1, "not an object": 1}
    shapes = [e.shape for e in summary.corrupt_examples]
    assert shapes[0] == f"<non-json {len(secret)} bytes>" and "<json array 15 bytes>" in shapes
    assert [e.offset for e in summary.corrupt_examples] == [1, 2, 3, 4, 5]
    assert not any("Jane" in s or "0612" in s for s in shapes)
    assert summary.field("a").types == {"int": 2}


def test_too_deep_records_are_corrupt_and_whitespace_around_json_is_fine() -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH + 5):
        deep = {"d": deep}
    summary = profile_of([deep, b'  {"a": 1}\n', {"a": 2}]).summary()
    assert summary.corrupt_reasons == {"nested too deeply": 1}
    assert summary.field("a").types == {"int": 2}


def test_string_lengths_tokens_and_distinct_counts() -> None:
    summary = profile_of([{"t": "one two three"}, {"t": "four"}, {"t": ""}, {"t": "four"}]).summary()
    text = summary.field("t")
    assert (text.length_min, text.length_max, text.tokens_max, text.distinct) == (0, 13, 3, 3)
    assert text.tokens_mean == pytest.approx((3 + 1 + 0 + 1) / 4)


def test_epoch_millis_are_recognised_only_in_their_range() -> None:
    summary = profile_of(
        [{"ts": 1_700_000_000_000, "n": 12}, {"ts": 1_700_000_000_123, "n": 1_700_000_000_000}]
    ).summary()
    assert (summary.field("ts").kind, summary.field("ts").format) == ("timestamp", "epoch_millis")
    assert summary.field("n").kind is None


def test_sample_is_bounded_seeded_and_only_of_scalars() -> None:
    records = [{"v": i, "r": {"x": i}, "l": [i, i]} for i in range(5000)]
    first = profile_of(records, sample=50, seed=7).summary()
    again = profile_of(records, sample=50, seed=7).summary()
    other = profile_of(records, sample=50, seed=8).summary()
    assert len(first.field("v").sample) == 50 and first.field("v").sampled_from == 5000
    assert first.field("v").sample == again.field("v").sample != other.field("v").sample
    assert first.field("r").sample == [] and len(first.field("l[]").sample) == 50
    assert first.field("l[]").sampled_from == 10000


def test_merging_partitions_equals_one_pass() -> None:
    rng = random.Random(3)
    records = [
        {"d": f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-2020", "n": rng.randint(0, 2**33), "s": None}
        for _ in range(3000)
    ]
    records[1500]["d"] = "25-01-2020"
    whole = profile_of(records).summary()
    parts = [
        Profile(1000, seed=i).add_all((json.dumps(r).encode(), i, o) for o, r in enumerate(records[i::3]))
        for i in range(3)
    ]
    merged = merge_all(parts)
    assert merged is not None
    summary = merged.summary()
    for path in ("d", "n", "s"):
        a, b = whole.field(path), summary.field(path)
        assert (a.types, a.nulls, a.missing, a.format, a.int_min, a.int_max) == (
            b.types,
            b.nulls,
            b.missing,
            b.format,
            b.int_min,
            b.int_max,
        )
    assert summary.field("d").format == "%d-%m-%Y" and summary.field("d").format_alternatives == []
    assert len(summary.field("n").sample) == 1000 and summary.field("n").sampled_from == 3000


def test_reservoir_is_uniform() -> None:
    # Where each of 100 kept values came from, over 200 runs: every tenth of the stream equally often.
    deciles: Counter[int] = Counter()
    for seed in range(200):
        reservoir, rng = Reservoir(100), random.Random(seed)
        for start in range(0, 10_000, 1000):  # offered in chunks, as the columnar profiler does
            reservoir.offer(list(range(start, start + 1000)), rng)
        assert len(reservoir.items) == 100 and len(set(reservoir.items)) == 100
        deciles.update(v // 1000 for v in reservoir.items)
    assert all(1800 <= deciles[d] <= 2200 for d in range(10)), deciles  # 2000 expected, sd ≈ 42


def test_reservoir_merge_weighs_each_side_by_what_it_saw() -> None:
    shares = []
    for seed in range(50):
        rng = random.Random(seed)
        big, small = Reservoir(1000), Reservoir(1000)
        big.offer(["big"] * 9000, rng)
        small.offer(["small"] * 1000, rng)
        big.merge(small, rng)
        assert len(big.items) == 1000 and big.seen == 10_000
        shares.append(big.items.count("small") / 1000)
    assert 0.09 < sum(shares) / len(shares) < 0.11  # 10% of what was seen was "small"
    tiny, rng = Reservoir(10), random.Random(0)
    tiny.offer([1, 2], rng)
    other = Reservoir(10)
    other.offer([3], rng)
    tiny.merge(other, rng)
    assert sorted(tiny.items) == [1, 2, 3]  # under k: everything is kept


def test_profiles_cross_process_boundaries_by_pickle() -> None:
    import pickle

    profile = Profile(10, seed=1)
    profile.add(b'{"a": "12-10-2020"}')
    copy = pickle.loads(pickle.dumps(profile))  # pickling flushes the pending batch first
    assert copy.summary().field("a").format == "%d-%m-%Y"
