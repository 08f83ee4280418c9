"""Profiles of raw JSON events: types, nulls, date formats, value lengths and a seeded sample per field.

A `Profile` is filled from one partition's raw values (`add`, `add_all`), then profiles merge associatively
(`merge`: partition → total) and `summary()` turns the total into `FieldProfile`s. Pure Python, no Spark:
it runs on every record, so records are decoded into batches and summarised column by column (stats.py).

Corrupt records (empty, not UTF-8, not JSON, not an object) are counted; a few are kept as evidence as
partition, offset and a masked shape such as `<non-json 57 bytes>`: never their content.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.decoder import JSONDecoder
from typing import Any

from schema_inference.stats import FieldProfile, FieldStats, finish, merge_stats, observe_records
from schema_inference.subjects import DEFAULT_SUBJECTS, SubjectSketch

DEFAULT_SAMPLE = 1000
MAX_CORRUPT_EXAMPLES = 5
MAX_DEPTH = 64  # deeper records are corrupt: the columnar walk recurses once per level
BATCH = 2048  # records decoded before their columns are summarised
_scan = JSONDecoder().scan_once


@dataclass(frozen=True)
class CorruptExample:
    """Where a corrupt record is and what it looks like, masked: never its content."""

    partition: int
    offset: int
    reason: str
    shape: str


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
    subjects: SubjectSketch | None = None  # a sample of subjects with all their records' values (subjects.py)

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

    def __init__(
        self,
        sample_size: int = DEFAULT_SAMPLE,
        seed: int | str = 0,
        subject_field: str | None = None,
        subjects: int = DEFAULT_SUBJECTS,
    ) -> None:
        if sample_size < 1:
            raise ValueError("sample_size must be at least 1")
        self.sample_size = sample_size
        self.sketch = SubjectSketch(subject_field, subjects) if subject_field else None
        self.rng = random.Random(str(seed))  # str seeds hash stably across processes
        self.root = FieldStats(sample_size, is_root=True)
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
            observe_records(self.root, self._pending, self.rng)
            if self.sketch is not None:
                self.sketch.observe(self._pending)
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
        merge_stats(self.root, other.root, self.rng)
        if self.sketch is not None and other.sketch is not None:
            self.sketch.merge(other.sketch)
        return self

    def __getstate__(self) -> dict[str, Any]:
        self._flush()  # what crosses a process boundary (Spark) is complete
        return self.__dict__

    def summary(self) -> ProfileSummary:
        self._flush()
        fields = [finish(child, key, key, self.valid, self.rng) for key, child in self.root.children.items()]
        return ProfileSummary(
            events=self.events,
            valid=self.valid,
            corrupt=self.corrupt,
            corrupt_reasons=dict(sorted(self.corrupt_reasons.items())),
            corrupt_examples=list(self.examples),
            fields=fields,
            sample_size=self.sample_size,
            subjects=self.sketch,
        )


def merge_all(profiles: Iterable[Profile]) -> Profile | None:
    total = None
    for profile in profiles:
        total = profile if total is None else total.merge(profile)
    return total


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, counted up to `limit`."""
    if limit <= 0:
        return 0
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


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
