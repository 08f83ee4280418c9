"""date_shift: move a date by a constant per-subject offset, keeping the field's format.

offset = a keyed HMAC-SHA256 of the subject value, mapped onto [-max_days, -1] or [1, max_days]
(never 0, so no date goes out unchanged). One subject's events keep their spacing and order; the
calendar dates no longer match other sources. Unparseable values raise TreatmentError (→ DLQ).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from operator import add
from typing import Any

from deid.policy import DateShiftParams
from pipelines.keys.base import DATE_SHIFT_KEY
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError, as_text
from pipelines.transforms.dates import DateCodec
from pipelines.transforms.fastcrypto import KeyedHmac

OFFSET_CACHE = 100_000  # subjects whose offset stays computed
DATE_CACHE = 8_192  # distinct date strings parsed / days formatted (dates repeat a lot; timestamps less)


def offset_days(keyed: KeyedHmac, subject: str, max_days: int) -> int:
    """The subject's shift in days: never 0, within ±max_days."""
    n = int.from_bytes(keyed.digest(subject.encode())[:8], "big") % (2 * max_days)
    return n - max_days if n < max_days else n - max_days + 1


class DateShift(Transform):
    name = "date_shift"

    def compile(self, params: DateShiftParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        fmt = params.format or field.spec.format
        if not fmt:
            raise ValueError(f"{field.path}: date_shift needs a date format")  # check_policy reports it first
        field.keystore.ensure(DATE_SHIFT_KEY, "secret")
        return date_shift_function(field.keystore.current(DATE_SHIFT_KEY).material, params.max_days, fmt, field)


def date_shift_function(secret: bytes, max_days: int, fmt: str, field: FieldContext) -> FieldFunction:
    codec, path, keyed = DateCodec(fmt), field.path, KeyedHmac(secret)
    parse = lru_cache(maxsize=DATE_CACHE)(codec.parse)  # errors are not cached: they re-raise each time
    format_date = lru_cache(maxsize=DATE_CACHE)(codec.format_date)
    offsets: dict[str, int] = {}  # subject → days (bounded: cleared when full)

    def days_of(subject: Any) -> int:
        subject_text = subject if type(subject) is str else as_text(subject)
        if subject_text is None:
            raise field.subject_error(subject)
        days = offsets.get(subject_text)
        if days is None:
            if len(offsets) >= OFFSET_CACHE:
                offsets.clear()
            days = offsets[subject_text] = offset_days(keyed, subject_text, max_days)
        return days

    if codec.date_only:  # calendar days: shift day numbers, each text parsed and each day formatted once
        day_numbers: dict[str, int] = {}
        texts: dict[int, str] = {}

        def number_of(value: Any) -> int:
            if type(value) is not str:
                raise TreatmentError(path, f"expected a date string, got a {type(value).__name__}")
            number = day_numbers.get(value)
            if number is None:
                try:
                    number = parse(value).toordinal()
                except ValueError as exc:
                    raise TreatmentError(path, str(exc)) from None
                if len(day_numbers) >= DATE_CACHE:
                    day_numbers.clear()
                day_numbers[value] = number
            return number

        def text_of(number: int) -> str:
            result = texts.get(number)
            if result is None:
                try:
                    result = codec.format_date(datetime.fromordinal(number))
                except (ValueError, OverflowError):
                    raise TreatmentError(path, "the shifted date is out of range") from None
                if len(texts) >= DATE_CACHE:
                    texts.clear()
                texts[number] = result
            return result

        def shift_day(value: Any, subject: Any) -> str:
            days = days_of(subject)
            return text_of(number_of(value) + days)

        def shift_days(values: list[Any], subjects: list[Any]) -> list[Any]:
            """The batch form: the cached day numbers, offsets and texts looked up a column at a time (one
            `map` each); only values, subjects and days not seen before go through the per-value steps."""
            if None in values:
                return [None if v is None else shift_day(v, s) for v, s in zip(values, subjects, strict=True)]
            days: list[Any] = list(map(offsets.get, subjects))
            if None in days:
                days = [d if d is not None else days_of(s) for d, s in zip(days, subjects, strict=True)]
            numbers: list[Any] = list(map(day_numbers.get, values))
            if None in numbers:
                numbers = [n if n is not None else number_of(v) for n, v in zip(numbers, values, strict=True)]
            shifted = list(map(add, numbers, days))
            out: list[Any] = list(map(texts.get, shifted))
            if None in out:
                out = [t if t is not None else text_of(n) for t, n in zip(out, shifted, strict=True)]
            return out

        shift_day.batch = shift_days  # type: ignore[attr-defined]
        return shift_day

    def shift_date(value: Any, subject: Any) -> str:
        days = days_of(subject)
        if type(value) is not str:
            raise TreatmentError(path, f"expected a date string, got a {type(value).__name__}")
        try:
            return format_date(parse(value) + timedelta(days=days))
        except ValueError as exc:
            raise TreatmentError(path, str(exc)) from None
        except OverflowError:
            raise TreatmentError(path, "the shifted date is out of range") from None

    return shift_date
