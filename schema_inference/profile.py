"""Profiles of raw JSON events: types, nulls, date formats, value lengths and a seeded sample per field.

A `Profile` is filled from one partition's raw values (`add`), then profiles merge associatively
(`merge`: partition → total) and `summary()` turns the total into `FieldProfile`s. Pure Python, no Spark:
it runs on every record, so records are decoded into batches and summarised column by column.

Field paths: `a` (top level), `a.b` (nested record), `a[]` (array items), `a{}` (map values). A nested
object becomes a map when its keys are many (more than MAP_KEY_LIMIT over all records) or are not valid Avro
names (ids, dates, e-mail addresses used as keys).

Corrupt records (empty, not UTF-8, not JSON, not an object) are counted; a few are kept as evidence as
partition, offset and a masked shape such as `<non-json 57 bytes>`: never their content.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from json.decoder import JSONDecoder
from operator import itemgetter
from types import NoneType
from typing import Any

from schema_inference.formats import EPOCH_MILLIS, EPOCH_MILLIS_RANGE, DateFormat, consistent_formats, intersect

DEFAULT_SAMPLE = 1000
MAP_KEY_LIMIT = 64
DISTINCT_CAP = 1000
MAX_CORRUPT_EXAMPLES = 5
MAX_DEPTH = 64  # deeper records are corrupt: the columnar walk recurses once per level
BATCH = 2048  # records decoded before their columns are summarised
AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_scan = JSONDecoder().scan_once


class Reservoir:
    """A uniform sample of up to k values from a stream (Li's Algorithm L: O(k log(n/k)) random draws)."""

    __slots__ = ("items", "k", "next", "seen", "w")

    def __init__(self, k: int) -> None:
        self.k, self.seen, self.items = k, 0, []
        self.next, self.w = 0, 0.0

    def offer(self, values: Sequence[Any], rng: random.Random) -> None:
        """Offer values in order; only the ones Algorithm L picks are touched."""
        start, count = self.seen, len(values)
        if start < self.k:
            take = min(self.k - start, count)
            self.items.extend(values[:take])
            self.seen = start + take
            if self.seen == self.k:
                self._restart(rng, math.exp(math.log(_unit(rng)) / self.k))
            if take == count:
                return
        end = start + count
        while self.next <= end:
            self.items[rng.randrange(self.k)] = values[self.next - start - 1]
            self.seen = self.next
            self._restart(rng, self.w * math.exp(math.log(_unit(rng)) / self.k))
        self.seen = end

    def _restart(self, rng: random.Random, w: float) -> None:
        """Set the skip state: `w` is the largest random key among the kept values."""
        self.w = w
        self.next = self.seen + math.floor(math.log(_unit(rng)) / math.log1p(-w)) + 1

    def merge(self, other: Reservoir, rng: random.Random) -> None:
        """Become a uniform sample of both streams: draw from each in proportion to what it has seen."""
        total = self.seen + other.seen
        if total <= self.k:
            self.items = self.items + other.items
        else:
            mine, theirs = self.items[:], other.items[:]
            rng.shuffle(mine)
            rng.shuffle(theirs)
            left_mine, left_theirs, drawn = self.seen, other.seen, []
            for _ in range(self.k):  # sequential draws without replacement = the hypergeometric split
                if rng.random() * (left_mine + left_theirs) < left_mine:
                    drawn.append(mine.pop())
                    left_mine -= 1
                else:
                    drawn.append(theirs.pop())
                    left_theirs -= 1
            self.items = drawn
        self.seen = total
        if total >= self.k:
            # The k-th smallest of `total` uniform keys is Beta(k, total - k + 1): exact state to go on sampling.
            self._restart(rng, min(rng.betavariate(self.k, total - self.k + 1), 1 - 1e-12))


def _unit(rng: random.Random) -> float:
    """A uniform draw in (0, 1): log() of it is always defined."""
    return rng.random() or 5e-324


class _Node:
    """Running statistics of the values found at one field path."""

    __slots__ = (
        "arrays",
        "booleans",
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
        self.distinct: set[str] | None = set()  # None once more than DISTINCT_CAP distinct strings
        self.sample = Reservoir(sample_size)
        self.children: dict[str, _Node] = {}
        self.items: _Node | None = None
        self.map_values: _Node | None = None


# Columnar updates: a batch of records is split into one list of values per field path, and each list is
# summarised with C-level builtins (map, sum, min, max, set); per-value Python work is what dominates otherwise.
_SCALARS = (str, bool, int, float)


def _observe_column(node: _Node, values: Sequence[Any], rng: random.Random) -> None:
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
        _observe_records(node, records, rng)
    if list in types:
        node.arrays += types[list]
        if node.items is None:
            node.items = _Node(node.sample.k)
        items = [item for v in values if type(v) is list for item in v]
        if items:
            _observe_column(node.items, items, rng)


def _observe_strings(node: _Node, strings: Sequence[str]) -> None:
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
        for value in unique:  # the result is the intersection over all values: order does not matter
            node.formats = (
                consistent_formats(value) if node.formats is None else consistent_formats(value, node.formats)
            )
            if not node.formats:
                break


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


def _observe_records(node: _Node, records: list[dict[str, Any]], rng: random.Random) -> None:
    columns = _columns(records)
    children = node.children
    if not node.is_root and node.map_values is None:
        new = [key for key in columns if key not in children]
        if new and (len(children) + len(new) > MAP_KEY_LIMIT or not all(AVRO_NAME.fullmatch(k) for k in new)):
            node.map_values = _Node(node.sample.k)
    if node.map_values is not None:
        _observe_column(node.map_values, [v for column in columns.values() for v in column], rng)
        return
    for key, column in columns.items():
        child = children.get(key)
        if child is None:
            child = children[key] = _Node(node.sample.k)
        _observe_column(child, column, rng)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, counted up to `limit`."""
    if limit <= 0:
        return 0
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


def _merge(into: _Node, other: _Node, rng: random.Random) -> None:
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
    if into.distinct is None or other.distinct is None:
        into.distinct = None
    else:
        into.distinct |= other.distinct
        if len(into.distinct) > DISTINCT_CAP:
            into.distinct = None
    into.sample.merge(other.sample, rng)
    for key, child in other.children.items():
        if key in into.children:
            _merge(into.children[key], child, rng)
        else:
            into.children[key] = child
    for name in ("items", "map_values"):
        mine, theirs = getattr(into, name), getattr(other, name)
        if mine is None:
            setattr(into, name, theirs)
        elif theirs is not None:
            _merge(mine, theirs, rng)


@dataclass(frozen=True)
class CorruptExample:
    """Where a corrupt record is and what it looks like, masked: never its content."""

    partition: int
    offset: int
    reason: str
    shape: str


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


@dataclass
class ProfileSummary:
    """The finished profile of a topic: record counts, corrupt evidence and the top-level fields."""

    events: int
    valid: int
    corrupt: int
    corrupt_reasons: dict[str, int]
    corrupt_examples: list[CorruptExample]
    fields: list[FieldProfile]
    sample_size: int

    def walk(self) -> Iterator[FieldProfile]:
        for top in self.fields:
            yield from top.walk()

    def field(self, path: str) -> FieldProfile:
        for found in self.walk():
            if found.path == path:
                return found
        raise KeyError(f"no field {path!r} in the profile")


class Profile:
    """A mergeable profile. Not thread-safe; one per partition, then `merge` them."""

    def __init__(self, sample_size: int = DEFAULT_SAMPLE, seed: int | str = 0) -> None:
        if sample_size < 1:
            raise ValueError("sample_size must be at least 1")
        self.sample_size = sample_size
        self.rng = random.Random(str(seed))  # str seeds hash stably across processes
        self.root = _Node(sample_size, is_root=True)
        self.events = self.valid = 0
        self.corrupt_reasons: dict[str, int] = {}
        self.examples: list[CorruptExample] = []
        self._pending: list[dict[str, Any]] = []

    @property
    def corrupt(self) -> int:
        return sum(self.corrupt_reasons.values())

    def add(self, raw: bytes | bytearray | None, partition: int = -1, offset: int = -1) -> None:
        """Profile one raw Kafka value."""
        self.events += 1
        if not raw:
            self._corrupt(partition, offset, "empty", "<null value>" if raw is None else "<empty value>")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._corrupt(partition, offset, "not UTF-8", f"<non-utf8 {len(raw)} bytes>")
            return
        try:
            record, end = _scan(text, 0)  # the C scanner without json.loads' per-call overhead
            if end != len(text) and not text[end:].isspace():
                raise ValueError("extra data")
        except (StopIteration, ValueError, RecursionError):
            try:  # leading whitespace is valid JSON the bare scanner refuses
                record = json.loads(text)
            except (ValueError, RecursionError):
                self._corrupt(partition, offset, "not JSON", f"<non-json {len(raw)} bytes>")
                return
        if type(record) is not dict:
            self._corrupt(partition, offset, "not an object", f"<json {_json_kind(record)} {len(raw)} bytes>")
            return
        # Brackets bound the depth from above: only a record with many of them needs walking.
        if (raw.count(b"{") + raw.count(b"[") > MAX_DEPTH) and _depth(record, MAX_DEPTH + 1) > MAX_DEPTH:
            self._corrupt(partition, offset, "nested too deeply", f"<deep json {len(raw)} bytes>")
            return
        self.valid += 1
        self._pending.append(record)
        if len(self._pending) >= BATCH:
            self._flush()

    def add_all(self, rows: Iterable[tuple[bytes | bytearray | None, int, int]]) -> Profile:
        """Profile (value, partition, offset) rows; returns self."""
        # The common case (a UTF-8 JSON object, not deeply nested, no surrounding whitespace) inline;
        # anything else goes through add(), which sorts out what is wrong with it.
        add, scan, pending, limit = self.add, _scan, self._pending, MAX_DEPTH
        for value, partition, offset in rows:
            try:
                text = value.decode()  # type: ignore[union-attr]
                record, end = scan(text, 0)
            except Exception:  # every failure is classified by add()
                add(value, partition, offset)
                continue
            if (
                type(record) is not dict or end != len(text) or value.count(b"{") + value.count(b"[") > limit  # type: ignore[union-attr]
            ):
                add(value, partition, offset)
                continue
            self.events += 1
            self.valid += 1
            pending.append(record)
            if len(pending) >= BATCH:
                self._flush()
                pending = self._pending
        self._flush()
        return self

    def _flush(self) -> None:
        if self._pending:
            self.root.records += len(self._pending)
            _observe_records(self.root, self._pending, self.rng)
            self._pending = []

    def _corrupt(self, partition: int, offset: int, reason: str, shape: str) -> None:
        self.corrupt_reasons[reason] = self.corrupt_reasons.get(reason, 0) + 1
        if len(self.examples) < MAX_CORRUPT_EXAMPLES:
            self.examples.append(CorruptExample(partition, offset, reason, shape))

    def merge(self, other: Profile) -> Profile:
        """Add `other` into this profile (and return it); `other` must not be used afterwards."""
        if other.sample_size != self.sample_size:
            raise ValueError(f"cannot merge profiles sampling {self.sample_size} and {other.sample_size} values")
        self._flush()
        other._flush()
        self.events += other.events
        self.valid += other.valid
        for reason, count in other.corrupt_reasons.items():
            self.corrupt_reasons[reason] = self.corrupt_reasons.get(reason, 0) + count
        examples = sorted(self.examples + other.examples, key=lambda e: (e.partition, e.offset))
        self.examples = examples[:MAX_CORRUPT_EXAMPLES]
        _merge(self.root, other.root, self.rng)
        return self

    def __getstate__(self) -> dict[str, Any]:
        self._flush()  # what crosses a process boundary (Spark) is complete
        return self.__dict__

    def summary(self) -> ProfileSummary:
        self._flush()
        fields = [_finish(child, key, key, self.valid, self.rng) for key, child in self.root.children.items()]
        return ProfileSummary(
            events=self.events,
            valid=self.valid,
            corrupt=self.corrupt,
            corrupt_reasons=dict(sorted(self.corrupt_reasons.items())),
            corrupt_examples=list(self.examples),
            fields=fields,
            sample_size=self.sample_size,
        )


def merge_all(profiles: Iterable[Profile]) -> Profile | None:
    total = None
    for profile in profiles:
        total = profile if total is None else total.merge(profile)
    return total


def _is_map(node: _Node) -> bool:
    if node.map_values is not None:
        return True
    keys = node.children
    return len(keys) > MAP_KEY_LIMIT or not all(AVRO_NAME.fullmatch(k) for k in keys)


def _finish(node: _Node, path: str, name: str, parent_records: int | None, rng: random.Random) -> FieldProfile:
    """Turn a node into a FieldProfile (folding map-like records into maps first)."""
    as_map = node.records > 0 and _is_map(node)
    if as_map:
        values = node.map_values or _Node(node.sample.k)
        for child in node.children.values():
            _merge(values, child, rng)
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
        profile.fields.append(_finish(child, f"{path}.{key}", key, node.records, rng))
    if node.items is not None:
        profile.items = _finish(node.items, f"{path}[]", f"{name}[]", None, rng)
    if node.map_values is not None:
        profile.values = _finish(node.map_values, f"{path}{{}}", f"{name}{{}}", None, rng)
    return profile


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def shape_of(value: Any, limit: int = 24) -> str:
    """A value's shape without its content (letters → a/A, digits → 9), for evidence a steward may see."""
    text = value if isinstance(value, str) else json.dumps(value)
    masked = "".join(_mask_char(c) for c in text[:limit])
    return masked if len(text) <= limit else f"{masked}…({len(text)} chars)"


def _mask_char(char: str) -> str:
    if char.isdigit():
        return "9"
    if char.isalpha():
        return "A" if char.isupper() else "a"
    return char
