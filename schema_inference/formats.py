"""Date and timestamp formats recognised in string fields, as strftime patterns.

A field keeps every candidate format that all of its values so far satisfy; day/month order is settled by
values whose day is over 12. Checks are a compiled regular expression plus range checks (no strptime: this
runs on every value of every string field that still has candidates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["date", "timestamp"]

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Epoch milliseconds between 2000-01-01 and 2100-01-01: 13-digit numbers that are timestamps, not ids.
EPOCH_MILLIS_RANGE = (946_684_800_000, 4_102_444_800_000)
EPOCH_MILLIS = "epoch_millis"

# Regular-expression pieces for each strftime directive we accept (strptime accepts unpadded day/month).
_PIECES = {
    "%Y": r"(\d{4})",
    "%m": r"(\d{1,2})",
    "%d": r"(\d{1,2})",
    "%H": r"(\d{2})",
    "%M": r"(\d{2})",
    "%S": r"(\d{2})",
    "%f": r"(\d{1,6})",
    "%z": r"(Z|[+-]\d{2}:?\d{2})",
}
_DIRECTIVE = re.compile(r"%[YmdHMSfz]")


@dataclass(frozen=True)
class DateFormat:
    """One strftime format: a regex whose groups are the directives in `order`, checked for ranges."""

    format: str
    kind: Kind
    regex: re.Pattern[str]
    order: tuple[str, ...]
    # Group index of year, month, day, hour, minute, second (hour.. are -1 for dates).
    index: tuple[int, int, int, int, int, int]

    @classmethod
    def of(cls, fmt: str) -> DateFormat:
        order = tuple(_DIRECTIVE.findall(fmt))
        parts, last = [], 0
        for match in _DIRECTIVE.finditer(fmt):
            parts.append(re.escape(fmt[last : match.start()]))
            parts.append(_PIECES[match.group()])
            last = match.end()
        parts.append(re.escape(fmt[last:]))
        kind: Kind = "timestamp" if "%H" in order else "date"
        index = tuple(order.index(d) if d in order else -1 for d in ("%Y", "%m", "%d", "%H", "%M", "%S"))
        return cls(fmt, kind, re.compile("".join(parts)), order, index)  # type: ignore[arg-type]

    def matches(self, value: str) -> bool:
        found = self.regex.fullmatch(value)
        if found is None:
            return False
        groups = found.groups()
        year, month, day, hour, minute, second = self.index
        m, d = int(groups[month]), int(groups[day])
        if not (1 <= m <= 12 and 1 <= d <= _DAYS_IN_MONTH[m - 1]):
            return False
        if m == 2 and d == 29 and not _leap(int(groups[year])):
            return False
        if hour >= 0:
            return int(groups[hour]) < 24 and int(groups[minute]) < 60 and int(groups[second]) < 61
        return True


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# In order of preference when several stay consistent (day-first before month-first: European default).
FORMATS: tuple[DateFormat, ...] = tuple(
    DateFormat.of(f)
    for f in (
        "%Y-%m-%d",
        "%d-%m-%Y",
        "%m-%d-%Y",
        "%d/%m/%Y",
        "%m/%d/%Y",
        "%Y/%m/%d",
        "%d.%m.%Y",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S.%f%z",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S.%f",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S.%f%z",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S.%f",
        "%d-%m-%Y %H:%M:%S",
        "%m-%d-%Y %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%d.%m.%Y %H:%M:%S",
    )
)
_BY_NAME = {f.format: f for f in FORMATS}
_MIN_LEN = min(len("1-1-2000"), 8)
_MAX_LEN = len("2000-01-01T00:00:00.000000+00:00")


def by_name(fmt: str) -> DateFormat:
    return _BY_NAME[fmt]


def consistent_formats(value: str, candidates: tuple[DateFormat, ...] = FORMATS) -> tuple[DateFormat, ...]:
    """The candidates `value` satisfies (the same tuple object when all do, so callers can skip work)."""
    # Every format starts with a digit and has a bounded length: most strings fail here at once.
    if not (_MIN_LEN <= len(value) <= _MAX_LEN and value[0].isdigit()):
        return ()
    kept = tuple(f for f in candidates if f.matches(value))
    return candidates if len(kept) == len(candidates) else kept


def intersect(left: tuple[DateFormat, ...], right: tuple[DateFormat, ...]) -> tuple[DateFormat, ...]:
    names = {f.format for f in right}
    return tuple(f for f in left if f.format in names)
