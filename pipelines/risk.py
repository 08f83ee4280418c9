"""Re-identification risk of an anonymised stream: k-anonymity over a sliding window of the
quasi-identifier tuples (what the output holds after treatment, not the raw values).

An equivalence class is the set of records sharing one tuple of quasi-identifier values; its size is
the k of its records. The report gives the class-size histogram, the minimum k, the share of records
in classes smaller than the target k, and the prosecutor risk (an attacker who knows a person is in
the data re-identifies them with probability 1/class size; the worst case is 1/min k). `suggest()`
says which one-step generalisation of one quasi-identifier raises k most (dob → year, postcode →
shorter prefix, number → bucket, or dropping it), computed on the same window.

Only counts leave this module: never a quasi-identifier value (metrics, logs, the CLI print sizes).
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deid.domains import Domain

DEFAULT_WINDOW = 10_000
SIZE_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, None))
"""Class sizes grouped for the histogram (metrics labels are these bucket names, never values)."""
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")

Key = tuple[Any, ...]


def bucket_name(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"


@dataclass(frozen=True)
class RiskReport:
    quasi_identifiers: tuple[str, ...]
    target_k: int
    records: int
    classes: int
    min_k: int
    below_target: int
    """Records in classes smaller than target_k."""
    histogram: dict[str, int] = field(default_factory=dict)
    """Class-size bucket → number of classes of that size."""

    @property
    def share_below_target(self) -> float:
        return self.below_target / self.records if self.records else 0.0

    @property
    def prosecutor_risk(self) -> float:
        return 1.0 / self.min_k if self.min_k else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "target_k": self.target_k,
            "records": self.records,
            "classes": self.classes,
            "min_k": self.min_k,
            "records_below_target": self.below_target,
            "share_below_target": round(self.share_below_target, 4),
            "prosecutor_risk": round(self.prosecutor_risk, 4),
            "class_sizes": self.histogram,
        }


@dataclass(frozen=True)
class Suggestion:
    field: str
    change: str  # "year", "prefix 3", "bucket 10", "drop"
    min_k: int
    share_below_target: float

    def text(self) -> str:
        how = "drop it" if self.change == "drop" else f"generalise to {self.change}"
        return f"{self.field}: {how} → min k {self.min_k}, {self.share_below_target:.1%} of records below target"


def report_of(classes: Mapping[Key, int], quasi_identifiers: Sequence[str], target_k: int) -> RiskReport:
    by_size = Counter(classes.values())  # few distinct sizes: the passes below are over those, not the classes
    histogram = {
        bucket_name(low, high): sum(n for size, n in by_size.items() if size >= low and (high is None or size <= high))
        for low, high in SIZE_BUCKETS
    }
    return RiskReport(
        quasi_identifiers=tuple(quasi_identifiers),
        target_k=target_k,
        records=sum(size * n for size, n in by_size.items()),
        classes=sum(by_size.values()),
        min_k=min(by_size, default=0),
        below_target=sum(size * n for size, n in by_size.items() if size < target_k),
        histogram=histogram,
    )


class RiskWindow:
    """The last `size` records' quasi-identifier tuples (and at most `max_age` seconds old, if given)."""

    def __init__(
        self,
        quasi_identifiers: Sequence[str],
        target_k: int = 5,
        size: int = DEFAULT_WINDOW,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not quasi_identifiers:
            raise ValueError("a risk window needs at least one quasi-identifier")
        if size < 1:
            raise ValueError("the risk window holds at least one record")
        self.quasi_identifiers, self.target_k = tuple(quasi_identifiers), target_k
        self.size, self.max_age, self.clock = size, max_age, clock
        self.key: Callable[[Mapping[str, Any]], Key] = tuple_reader(self.quasi_identifiers)
        self._window: deque[tuple[Key, float]] = deque()
        self.classes: Counter[Key] = Counter()

    def observe(self, record: Mapping[str, Any]) -> Key:
        """Add one anonymised record (the hot path: one tuple, one counter update, maybe one eviction); its key."""
        key = self.key(record)
        self.classes[key] += 1
        self._window.append((key, self.clock() if self.max_age is not None else 0.0))
        if len(self._window) > self.size:
            self._evict_one()
        return key

    def observe_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.observe(record)

    def _evict_one(self) -> None:
        self._forget(self._window.popleft()[0])

    def _forget(self, key: Key) -> None:
        left = self.classes[key] - 1
        if left:
            self.classes[key] = left
        else:
            del self.classes[key]

    def _expire(self) -> None:
        if self.max_age is None:
            return
        cutoff = self.clock() - self.max_age
        while self._window and self._window[0][1] < cutoff:
            self._evict_one()

    def undo(self, count: int) -> None:
        """Forget the last `count` records observed (a batch whose transaction was aborted and will be read
        again). Records the window evicted meanwhile stay forgotten: classes only shrink, never grow."""
        for _ in range(min(count, len(self._window))):
            self._forget(self._window.pop()[0])

    def __len__(self) -> int:
        return len(self._window)

    def report(self) -> RiskReport:
        self._expire()
        return report_of(self.classes, self.quasi_identifiers, self.target_k)

    def suggest(self) -> list[Suggestion]:
        """One-step generalisations of each quasi-identifier, best first (reaching target k, keeping the field)."""
        self._expire()
        found = []
        for index, path in enumerate(self.quasi_identifiers):
            values = [key[index] for key in self.classes]
            for change, coarsen in _coarsenings(values):
                merged: Counter[Key] = Counter()
                for key, count in self.classes.items():
                    merged[(*key[:index], coarsen(key[index]), *key[index + 1 :])] += count
                if len(merged) == len(self.classes) and change != "drop":
                    continue  # changes nothing on this window (e.g. the values are years already)
                report = report_of(merged, self.quasi_identifiers, self.target_k)
                found.append(Suggestion(path, change, report.min_k, report.share_below_target))
        # Reaching the target first; among those a generalisation before dropping the field; then higher k.
        target = self.target_k
        return sorted(found, key=lambda s: (s.min_k < target, s.change == "drop", -s.min_k, s.share_below_target))


class KSuppressor:
    """Optional k-anonymity enforcement (policy `k_anonymity: suppress`) on one output stream.

    A record's quasi-identifiers leave as they are only when at least `target_k` records of the recent
    window (itself included) share their tuple; otherwise every quasi-identifier is set to null. A streaming
    worker cannot hold records back until their class fills, so this is the rule that needs no buffering:
    whoever knows a released person's quasi-identifiers finds at least k records compatible with them in
    the output (those released with the same tuple and the suppressed ones, which match anything). The
    window counts what the plan produced, before suppression; `suppressed` counts the records changed.
    """

    def __init__(self, quasi_identifiers: Sequence[str], target_k: int, size: int = DEFAULT_WINDOW) -> None:
        self.seen = RiskWindow(quasi_identifiers, target_k, size)
        self.target_k = target_k
        self._null = _nuller(quasi_identifiers)
        self.suppressed = 0
        self._batch: list[bool] = []  # this batch's records: suppressed or not (for `abort_batch`)

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        seen = self.seen
        key = seen.observe(record)
        if _released(key, seen.classes[key], self.target_k):
            self._batch.append(False)
            return record
        self._batch.append(True)
        self.suppressed += 1
        self._null(record)
        return record

    def commit_batch(self) -> None:
        self._batch.clear()

    def abort_batch(self) -> None:
        """The batch will be read again: its records leave the window, or they would count twice and let a
        class look k strong with fewer than k people in it."""
        self.seen.undo(len(self._batch))
        self.suppressed -= sum(self._batch)
        self._batch.clear()


def k_suppressor_for(domain: Domain, mode: str, size: int = DEFAULT_WINDOW) -> KSuppressor | None:
    """The suppressor a policy asks for (`k_anonymity: suppress`), or None (`measure`, or no window)."""
    if mode != "suppress" or not domain.quasi_identifiers or size <= 0:
        return None
    return KSuppressor(domain.quasi_identifiers, domain.target_k, size)


def count_classes(records: Iterable[Mapping[str, Any]], quasi_identifiers: Sequence[str]) -> Counter[Key]:
    """How many records share each tuple of quasi-identifier values (a batch run's first pass)."""
    return Counter(map(tuple_reader(quasi_identifiers), records))


def suppress_small_classes(
    records: Iterable[dict[str, Any]], quasi_identifiers: Sequence[str], target_k: int, classes: Mapping[Key, int]
) -> int:
    """`k_anonymity: suppress` over a whole batch run: null every quasi-identifier of a record whose tuple
    fewer than `target_k` records of `classes` (the run's output, counted beforehand) share; the number of
    records changed. Unlike the stream nothing is windowed: each released tuple is shared by at least k
    records of the run. A tuple the count never saw (a treatment that is not repeatable) counts as 0."""
    read, null = tuple_reader(quasi_identifiers), _nuller(quasi_identifiers)
    suppressed = 0
    for record in records:
        key = read(record)
        if not _released(key, classes.get(key, 0), target_k):
            null(record)
            suppressed += 1
    return suppressed


def tuple_reader(quasi_identifiers: Sequence[str]) -> Callable[[Mapping[str, Any]], Key]:
    """A record → its tuple of quasi-identifier values (hashable: lists and objects become tuples)."""
    getters = [_getter(path) for path in quasi_identifiers]
    return lambda record: tuple(_hashable(get(record)) for get in getters)


def _released(key: Key, class_size: int, target_k: int) -> bool:
    """The suppression rule, stream and batch: a tuple goes out when k records share it; an all-null one
    (nothing to hide) always does."""
    return class_size >= target_k or all(v is None for v in key)


def _nuller(quasi_identifiers: Sequence[str]) -> Callable[[dict[str, Any]], None]:
    paths = [path.split(".") for path in quasi_identifiers]

    def null(record: dict[str, Any]) -> None:
        for keys in paths:
            _set_null(record, keys)

    return null


def _set_null(record: dict[str, Any], keys: list[str]) -> None:
    node: Any = record
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and keys[-1] in node:
        node[keys[-1]] = None


_QUASI_NAMES = re.compile(r"(^|_)(dob|birth|born|gender|sex|post_?code|zip|city|town|age|nationality|ethnic)", re.I)


def suggested_quasi_identifiers(domain: Domain) -> list[str]:
    """Fields that look like quasi-identifiers (date of birth, gender, postcode, city, age, …) by name,
    plus date fields other than the event time: what a steward should consider naming."""
    found = []
    for path, spec in domain.fields.items():
        if path in (domain.subject_field, domain.event_time_field) or spec.type == "text":
            continue
        if _QUASI_NAMES.search(path.rsplit(".", 1)[-1]) or spec.type == "date":
            found.append(path)
    return found


def risk_window_for(domain: Domain, size: int = DEFAULT_WINDOW) -> RiskWindow | None:
    """The domain's risk window, or None when it names no quasi-identifiers (or `size` is 0)."""
    if not domain.quasi_identifiers or size <= 0:
        return None
    return RiskWindow(domain.quasi_identifiers, domain.target_k, size)


def _coarsenings(values: list[Any]) -> list[tuple[str, Callable[[Any], Any]]]:
    """The generalisations that apply to these values (judged on the window's own values)."""
    if all(v is None for v in values):
        return []  # dropped or null already
    options: list[tuple[str, Callable[[Any], Any]]] = [("drop", lambda _v: None)]
    texts = [v for v in values if isinstance(v, str)]
    dated = [v for v in texts if _YEAR.search(v)]
    if dated and len(dated) >= 0.8 * len(texts) and any(len(v) > 4 for v in dated):

        def year(value: Any) -> Any:
            match = _YEAR.search(value) if isinstance(value, str) else None
            return match.group(1) if match else value

        def decade(value: Any) -> Any:
            match = _YEAR.search(value) if isinstance(value, str) else None
            return match.group(1)[:3] + "0s" if match else value

        options += [("year", year), ("decade", decade)]
    elif texts and all(any(c.isdigit() for c in v) for v in texts):  # codes such as postcodes
        longest = max(len(v) for v in texts)
        if longest > 1:
            length = max(1, longest - 1) if longest <= 4 else max(1, longest // 2)
            options.append((f"prefix {length}", lambda v, n=length: v[:n] if isinstance(v, str) else v))
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers:
        spread = max(numbers) - min(numbers)
        width = 10 ** max(1, len(str(int(spread))) - 1) if spread >= 10 else 5
        options.append((f"bucket {width}", lambda v, w=width: (v // w) * w if isinstance(v, int | float) else v))
    return options


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _getter(path: str) -> Callable[[Mapping[str, Any]], Any]:
    keys = path.split(".")
    if len(keys) == 1:
        key = keys[0]
        return lambda record: record.get(key)

    def nested(record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in keys:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return nested
