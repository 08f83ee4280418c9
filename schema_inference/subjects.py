"""Which values belong to which subject: a bottom-k sample of the domain's subjects with all their records.

Structural signals need to know, per field, whether a value belongs to one subject (a person's name, a date
of birth) or is shared by many (a show title watched by many users), and whether a field is a function of
the subject (one value per subject) or varies within it (an event time). A per-field sample cannot say: it
loses which record a value came from. So the profile keeps, per subject, the counts of each field's values
for a sample of subjects chosen by hash: the K subjects with the smallest hash of their id (a bottom-k
sketch). Every record of a kept subject is counted (the threshold only falls, so a subject in the final
sample was in it from its first record), the sample is uniform over subjects whatever their activity, and
two partitions' sketches merge into the sketch of both (union, then the K smallest hashes).

Only records of kept subjects are looked at past one hash: cheap on every record. Values are counted per
top-level (and one level nested, `a.b`) scalar field, up to MAX_VALUES distinct per subject and field.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SUBJECTS = 512
HASH_CACHE = 100_000  # subjects whose hash is remembered
MAX_VALUES = 16  # distinct values remembered per subject and field; more is "varies a lot"
_SCALARS = (str, int, float, bool)


@dataclass
class SubjectRows:
    """One kept subject: its record count and, per field path, value → count (capped)."""

    records: int = 0
    values: dict[str, dict[Any, int]] = field(default_factory=dict)
    overflow: set[str] = field(default_factory=set)  # fields with more than MAX_VALUES distinct values

    def add(self, record: Mapping[str, Any]) -> None:
        self.records += 1
        for key, value in record.items():
            if type(value) is dict:
                for inner, item in value.items():
                    if type(item) in _SCALARS:
                        self._count(f"{key}.{inner}", item)
            elif type(value) in _SCALARS:
                self._count(key, value)

    def _count(self, path: str, value: Any) -> None:
        counts = self.values.get(path)
        if counts is None:
            self.values[path] = {value: 1}
        elif value in counts:
            counts[value] += 1
        elif len(counts) < MAX_VALUES:
            counts[value] = 1
        else:
            self.overflow.add(path)

    def merge(self, other: SubjectRows) -> None:
        self.records += other.records
        self.overflow |= other.overflow
        for path, counts in other.values.items():
            mine = self.values.setdefault(path, {})
            for value, count in counts.items():
                if value in mine or len(mine) < MAX_VALUES:
                    mine[value] = mine.get(value, 0) + count
                else:
                    self.overflow.add(path)


def subject_hash(subject: Any) -> int:
    """Stable across processes and runs (not Python's salted hash): crc32 of the subject's text."""
    return zlib.crc32(str(subject).encode("utf-8", "surrogatepass"))


class SubjectSketch:
    """The bottom-k subjects of a stream by `subject_hash`, each with all of its records' value counts."""

    def __init__(self, subject_field: str, k: int = DEFAULT_SUBJECTS) -> None:
        if k < 1:
            raise ValueError("the subject sample needs at least 1 subject")
        self.subject_field, self.k = subject_field, k
        self.subjects: dict[str, SubjectRows] = {}
        self.hashes: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []  # (-hash, subject): the largest kept hash on top
        self.records = 0  # records with a subject value
        self._hashes_seen: dict[str, int] = {}
        self._keys = tuple(subject_field.split("."))  # plain data: the sketch crosses process boundaries (Spark)

    @property
    def threshold(self) -> int:
        """Hashes above this are not kept (the k-th smallest once full)."""
        return -self._heap[0][0] if len(self.subjects) >= self.k else 1 << 32

    def _subject(self, record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in self._keys:
            value = value.get(key) if type(value) is dict else None
        return value

    def observe(self, records: Iterable[Mapping[str, Any]]) -> None:
        # The hot path of profiling with a subject field: one get, one dict look-up and a comparison for a
        # record whose subject is not kept; hashes of subjects seen are remembered (bounded).
        subjects, cache, threshold = self.subjects, self._hashes_seen, self.threshold
        single = self._keys[0] if len(self._keys) == 1 else None
        seen = 0
        for record in records:
            subject = record.get(single) if single is not None else self._subject(record)
            if type(subject) is not str:
                if subject is None or type(subject) not in _SCALARS:
                    continue
                subject = str(subject)
            seen += 1
            rows = subjects.get(subject)
            if rows is None:
                digest = cache.get(subject)
                if digest is None:
                    digest = subject_hash(subject)
                    if len(cache) < HASH_CACHE:
                        cache[subject] = digest
                if digest >= threshold:
                    continue
                rows = self._keep(subject, digest)
                threshold = self.threshold
            rows.add(record)
        self.records += seen

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_hashes_seen"] = {}  # a cache: not worth shipping between processes
        return state

    def _keep(self, key: str, digest: int) -> SubjectRows:
        rows = self.subjects[key] = SubjectRows()
        self.hashes[key] = digest
        heapq.heappush(self._heap, (-digest, key))
        while len(self.subjects) > self.k:
            _, dropped = heapq.heappop(self._heap)
            del self.subjects[dropped], self.hashes[dropped]
        return rows

    def merge(self, other: SubjectSketch) -> SubjectSketch:
        """This sketch becomes the sketch of both streams (and is returned)."""
        self.records += other.records
        for key, rows in other.subjects.items():
            mine = self.subjects.get(key)
            if mine is not None:
                mine.merge(rows)
            elif other.hashes[key] < self.threshold:
                self._keep(key, other.hashes[key]).merge(rows)
        return self

    def field_values(self, path: str) -> dict[str, dict[Any, int]]:
        """Subject → that subject's value counts for `path` (subjects without a value left out)."""
        return {subject: rows.values[path] for subject, rows in self.subjects.items() if path in rows.values}

    def overflowed(self, path: str) -> int:
        return sum(1 for rows in self.subjects.values() if path in rows.overflow)


@dataclass(frozen=True)
class SubjectStructure:
    """How one field's values relate to the subject, over the sketch's subjects (None: not measurable)."""

    subjects: int  # sampled subjects with a value in the field
    repeat_subjects: int  # ... of which with at least two values (records) in the field
    functional: float | None  # of repeat subjects, the share with one single value: 1.0 = a function of the subject
    shared: float | None  # of value occurrences, the share whose value is held by two or more subjects
    subjects_per_value: float | None  # median over occurrences of the subjects holding the occurrence's value

    def as_evidence(self) -> dict[str, Any]:
        return {
            "sampled_subjects": self.subjects,
            "subjects_with_repeats": self.repeat_subjects,
            "functional_on_subject": self.functional,
            "shared_across_subjects": self.shared,
            "subjects_per_value_median": self.subjects_per_value,
        }


def structure_of(sketch: SubjectSketch, path: str) -> SubjectStructure | None:
    """The field's relation to the subject; None when the sketch holds no value of it."""
    per_subject = sketch.field_values(path)
    if not per_subject:
        return None
    holders: dict[Any, int] = {}
    for counts in per_subject.values():
        for value in counts:
            holders[value] = holders.get(value, 0) + 1
    repeats = [counts for counts in per_subject.values() if sum(counts.values()) >= 2]
    overflow = sketch.overflowed(path)
    functional = (
        round(sum(1 for counts in repeats if len(counts) == 1) / (len(repeats) + overflow), 4)
        if repeats or overflow
        else None
    )
    occurrences = sorted((holders[value], count) for counts in per_subject.values() for value, count in counts.items())
    total = sum(count for _, count in occurrences)
    shared = round(sum(count for held, count in occurrences if held >= 2) / total, 4) if total else None
    median, seen = None, 0
    for held, count in occurrences:
        seen += count
        if seen * 2 >= total:
            median = float(held)
            break
    return SubjectStructure(len(per_subject), len(repeats) + overflow, functional, shared, median)
