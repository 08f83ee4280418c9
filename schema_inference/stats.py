"""Running statistics per field path, updated a column at a time, merged, and finished into FieldProfiles.

A batch of records is split into one sequence of values per field path, and each sequence is summarised with
C-level builtins (map, sum, min, max, set): per-value Python work is what dominates otherwise.

Field paths: `a` (top level), `a.b` (nested record), `a[]` (array items), `a{}` (map values). A nested
object becomes a map when its keys are many (more than MAP_KEY_LIMIT over all records) or are not valid Avro
names (ids, dates, e-mail addresses used as keys).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from types import NoneType
from typing import Any

from schema_inference.formats import EPOCH_MILLIS, EPOCH_MILLIS_RANGE, DateFormat, consistent_formats, intersect
from schema_inference.reservoir import Reservoir

MAP_KEY_LIMIT = 64
DISTINCT_CAP = 1000
CHECKED_CAP = 8192  # strings remembered as fitting every date format still in the running
AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


class FieldStats:
    """Running statistics of the values found at one field path."""

    __slots__ = (
        "arrays",
        "booleans",
        "checked",
        "children",
        "distinct",
        "doubles",
        "formats",
        "int_max",
        "int_min",
        "ints",
        "is_root",
        "items",
        "length_max",
        "length_min",
        "length_sum",
        "map_values",
        "nulls",
        "present",
        "records",
        "sample",
        "strings",
        "tokens_max",
        "tokens_sum",
    )

    def __init__(self, sample_size: int, is_root: bool = False) -> None:
        self.is_root = is_root
        self.present = self.nulls = self.booleans = self.ints = self.doubles = 0
        self.strings = self.records = self.arrays = 0
        self.int_min, self.int_max = _INT64[1], _INT64[0]
        self.length_min, self.length_max, self.length_sum = 1 << 62, 0, 0
        self.tokens_max = self.tokens_sum = 0
        self.formats: tuple[DateFormat, ...] | None = None  # None until a non-empty string is seen
        # Strings known to fit every format in `formats`: the candidates only ever shrink, so a value that fit
        # them once fits them for good and is not checked again (a date column repeats its few thousand days).
        self.checked: set[str] = set()
        self.distinct: set[str] | None = set()  # None once more than DISTINCT_CAP distinct strings
        self.sample = Reservoir(sample_size)
        self.children: dict[str, FieldStats] = {}
        self.items: FieldStats | None = None
        self.map_values: FieldStats | None = None


_SCALARS = (str, bool, int, float)


def _observe_column(node: FieldStats, values: Sequence[Any], rng: random.Random) -> None:
    node.present += len(values)
    types = Counter(map(type, values))
    if len(types) == 1:  # the usual case: one type per field
        ((kind, _),) = types.items()
        strings = values if kind is str else None
        scalars = values if kind in _SCALARS else None
    else:
        strings = [v for v in values if type(v) is str] if str in types else None
        scalars = [v for v in values if type(v) in _SCALARS]
    node.nulls += types.get(NoneType, 0)
    node.booleans += types.get(bool, 0)
    node.doubles += types.get(float, 0)
    if strings:
        _observe_strings(node, strings)
    if int in types:
        ints = values if len(types) == 1 else [v for v in values if type(v) is int]
        low, high = min(ints), max(ints)
        if low < _INT64[0] or high > _INT64[1]:  # beyond a long: only a double can hold them
            ints = [v for v in ints if _INT64[0] <= v <= _INT64[1]]
            node.doubles += types[int] - len(ints)
            low, high = (min(ints), max(ints)) if ints else (node.int_min, node.int_max)
        node.ints += len(ints)
        node.int_min, node.int_max = min(node.int_min, low), max(node.int_max, high)
    if scalars:
        node.sample.offer(scalars, rng)
    if dict in types:
        records = values if len(types) == 1 else [v for v in values if type(v) is dict]
        node.records += len(records)
        observe_records(node, records, rng)
    if list in types:
        node.arrays += types[list]
        if node.items is None:
            node.items = FieldStats(node.sample.k)
        items = [item for v in values if type(v) is list for item in v]
        if items:
            _observe_column(node.items, items, rng)


def _observe_strings(node: FieldStats, strings: Sequence[str]) -> None:
    node.strings += len(strings)
    lengths = list(map(len, strings))
    node.length_sum += sum(lengths)
    node.length_min = min(node.length_min, min(lengths))
    node.length_max = max(node.length_max, max(lengths))
    spaces = list(map(str.count, strings, repeat(" ")))
    non_empty = len(lengths) - lengths.count(0)
    node.tokens_sum += sum(spaces) + non_empty  # words = spaces + 1 for each non-empty string
    if non_empty:
        node.tokens_max = max(node.tokens_max, max(spaces) + 1)
    if node.distinct is None and node.formats == ():
        return  # nothing left that needs the distinct values
    unique = set(strings)
    if node.distinct is not None:
        node.distinct |= unique
        if len(node.distinct) > DISTINCT_CAP:
            node.distinct = None
    if node.formats != ():
        unique.discard("")
        unique -= node.checked
        for value in unique:  # the result is the intersection over all values: order does not matter
            node.formats = (
                consistent_formats(value) if node.formats is None else consistent_formats(value, node.formats)
            )
            if not node.formats:
                node.checked = set()
                break
        else:
            if len(node.checked) < CHECKED_CAP:
                node.checked |= unique


def _columns(records: list[dict[str, Any]]) -> dict[str, Sequence[Any]]:
    """One sequence of values per key, in first-seen key order."""
    keys = tuple(records[0])
    if keys and set(map(len, records)) == {len(keys)}:
        # Same number of keys everywhere: if each record has all of them, they are the same key set.
        getter = itemgetter(*keys)
        try:
            rows = list(map(getter, records))
        except KeyError:
            pass
        else:
            return dict(zip(keys, zip(*rows, strict=True), strict=True)) if len(keys) > 1 else {keys[0]: rows}
    columns: dict[str, list[Any]] = {}
    for record in records:
        for key, value in record.items():
            column = columns.get(key)
            if column is None:
                columns[key] = [value]
            else:
                column.append(value)
    return columns


def observe_records(node: FieldStats, records: list[dict[str, Any]], rng: random.Random) -> None:
    columns = _columns(records)
    children = node.children
    if not node.is_root and node.map_values is None:
        new = [key for key in columns if key not in children]
        if new and (len(children) + len(new) > MAP_KEY_LIMIT or not all(AVRO_NAME.fullmatch(k) for k in new)):
            node.map_values = FieldStats(node.sample.k)
    if node.map_values is not None:
        _observe_column(node.map_values, [v for column in columns.values() for v in column], rng)
        return
    for key, column in columns.items():
        child = children.get(key)
        if child is None:
            child = children[key] = FieldStats(node.sample.k)
        _observe_column(child, column, rng)


def merge_stats(into: FieldStats, other: FieldStats, rng: random.Random) -> None:
    for name in ("present", "nulls", "booleans", "ints", "doubles", "strings", "records", "arrays"):
        setattr(into, name, getattr(into, name) + getattr(other, name))
    into.int_min, into.int_max = min(into.int_min, other.int_min), max(into.int_max, other.int_max)
    into.length_min, into.length_max = min(into.length_min, other.length_min), max(into.length_max, other.length_max)
    into.length_sum += other.length_sum
    into.tokens_sum += other.tokens_sum
    into.tokens_max = max(into.tokens_max, other.tokens_max)
    if into.formats is None:
        into.formats = other.formats
    elif other.formats is not None:
        into.formats = intersect(into.formats, other.formats)
    # Each side's checked values fit a superset of the intersection: they still fit.
    into.checked = into.checked | other.checked if into.formats else set()
    if into.distinct is None or other.distinct is None:
        into.distinct = None
    else:
        into.distinct |= other.distinct
        if len(into.distinct) > DISTINCT_CAP:
            into.distinct = None
    into.sample.merge(other.sample, rng)
    for key, child in other.children.items():
        if key in into.children:
            merge_stats(into.children[key], child, rng)
        else:
            into.children[key] = child
    for name in ("items", "map_values"):
        mine, theirs = getattr(into, name), getattr(other, name)
        if mine is None:
            setattr(into, name, theirs)
        elif theirs is not None:
            merge_stats(mine, theirs, rng)


@dataclass
class FieldProfile:
    """What was seen at one field path, over all records profiled."""

    path: str
    name: str
    count: int  # values seen at this path, nulls included
    nulls: int
    missing: int  # records of the parent that lack this key (0 for array items and map values)
    types: dict[str, int]  # null/boolean/int/long/double/string/record/array/map → how many values
    int_min: int | None = None
    int_max: int | None = None
    length_min: int | None = None  # string lengths, in characters
    length_max: int | None = None
    length_mean: float | None = None
    tokens_mean: float | None = None  # words per non-empty string
    tokens_max: int | None = None
    kind: str | None = None  # "date" or "timestamp" when every value has one format
    format: str | None = None  # a strftime pattern, or "epoch_millis"
    format_alternatives: list[str] = field(default_factory=list)  # equally consistent (day/month unsettled)
    distinct: int | None = None  # distinct strings; None when more than DISTINCT_CAP
    sample: list[Any] = field(default_factory=list, repr=False)  # raw values: never log or publish these
    sampled_from: int = 0  # non-null scalar values the sample was drawn from
    fields: list[FieldProfile] = field(default_factory=list)  # a record's fields
    items: FieldProfile | None = None  # an array's items
    values: FieldProfile | None = None  # a map's values

    @property
    def nullable(self) -> bool:
        return self.nulls > 0 or self.missing > 0

    def walk(self) -> Iterator[FieldProfile]:
        """This field and every field below it, depth first."""
        yield self
        for child in self.fields:
            yield from child.walk()
        for child in (self.items, self.values):
            if child is not None:
                yield from child.walk()


def _is_map(node: FieldStats) -> bool:
    if node.map_values is not None:
        return True
    keys = node.children
    return len(keys) > MAP_KEY_LIMIT or not all(AVRO_NAME.fullmatch(k) for k in keys)


def finish(node: FieldStats, path: str, name: str, parent_records: int | None, rng: random.Random) -> FieldProfile:
    """Turn a node into a FieldProfile (folding map-like records into maps first)."""
    as_map = node.records > 0 and _is_map(node)
    if as_map:
        values = node.map_values or FieldStats(node.sample.k)
        for child in node.children.values():
            merge_stats(values, child, rng)
        node.map_values, node.children = values, {}
    ints_in = _INT32[0] <= node.int_min and node.int_max <= _INT32[1]
    types = {
        "null": node.nulls,
        "boolean": node.booleans,
        "int" if ints_in else "long": node.ints,
        "double": node.doubles,
        "string": node.strings,
        "map" if as_map else "record": node.records,
        "array": node.arrays,
    }
    profile = FieldProfile(
        path=path,
        name=name,
        count=node.present,
        nulls=node.nulls,
        # max(): a record cut short by RecursionError may have counted some of its fields
        missing=0 if parent_records is None else max(0, parent_records - node.present),
        types={k: v for k, v in types.items() if v},
        distinct=None if node.distinct is None else len(node.distinct),
        sample=list(node.sample.items),
        sampled_from=node.sample.seen,
    )
    if node.ints:
        profile.int_min, profile.int_max = node.int_min, node.int_max
        only_ints = not (node.strings or node.doubles)
        if only_ints and EPOCH_MILLIS_RANGE[0] <= node.int_min and node.int_max <= EPOCH_MILLIS_RANGE[1]:
            profile.kind, profile.format = "timestamp", EPOCH_MILLIS
    if node.strings:
        profile.length_min, profile.length_max = node.length_min, node.length_max
        profile.length_mean = round(node.length_sum / node.strings, 2)
        profile.tokens_max = node.tokens_max
        profile.tokens_mean = round(node.tokens_sum / node.strings, 2)
        if node.formats:
            best = node.formats[0]
            profile.kind, profile.format = best.kind, best.format
            profile.format_alternatives = [f.format for f in node.formats[1:]]
    for key, child in node.children.items():
        profile.fields.append(finish(child, f"{path}.{key}", key, node.records, rng))
    if node.items is not None:
        profile.items = finish(node.items, f"{path}[]", f"{name}[]", None, rng)
    if node.map_values is not None:
        profile.values = finish(node.map_values, f"{path}{{}}", f"{name}{{}}", None, rng)
    return profile
