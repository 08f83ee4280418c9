"""A compiled plan applied to a whole batch, column by column (what `Plan.apply_batch` runs for flat plans).

For each rule of the top level, in plan order: the column of its values across the batch, treated in one
pass by the field function's batch form (`transforms.base.batch_form`: the function's own `batch` when it
has one, else the same function mapped over the values), then the rows zipped back into records. The
functions are the plan's own, so every record comes out exactly as `Plan.apply` makes it.

A column whose pass fails is treated again value by value, so that only the records at fault fail: each
gets the TreatmentError `apply` raises for it (the first failing field in plan order), never the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from pipelines.transforms.base import FieldFunction, TreatmentError, batch_form

RECORD = "(record)"


@dataclass
class Columns:
    """A treated batch, by field: `values[i][r]` is field `names[i]` of record r; `failed` maps the records a
    rule refused to their TreatmentError (their values are placeholders)."""

    names: list[str]
    values: list[list[Any]]
    failed: dict[int, TreatmentError]
    count: int

    def rows(self) -> list[dict[str, Any] | TreatmentError]:
        """Record by record: the treated record, or its TreatmentError."""
        names = self.names
        rows: list[dict[str, Any] | TreatmentError] = [dict(zip(names, row, strict=True)) for row in zip(*self.values)]  # noqa: B905 (equal lengths)
        if not names:
            rows = [{} for _ in range(self.count)]
        for index, error in self.failed.items():
            rows[index] = error
        return rows

    def treated(self) -> dict[str, list[Any]]:
        """Field name → its values across the records that did not fail."""
        if not self.failed:
            return dict(zip(self.names, self.values, strict=True))
        failed = self.failed
        return {
            name: [v for r, v in enumerate(column) if r not in failed]
            for name, column in zip(self.names, self.values, strict=True)
        }


def treat_columns(
    plain: list[tuple[str, FieldFunction | None]],
    known: frozenset[str],
    records: list[dict[str, Any]],
    subjects: list[Any],
    uncovered: set[str],
    constants: Iterable[tuple[str, Any]] = (),
) -> Columns:
    """`records` (all dicts) treated by flat rules `plain` ((key, function or None for keep) pairs), column by
    column; keys outside `known` are added to `uncovered` (from the records that did not fail, as `apply`)."""
    failed: dict[int, TreatmentError] = {}
    names: list[str] = []
    columns: list[list[Any]] = []
    for key, fn in plain:
        values = column_of(records, key)
        names.append(key)
        columns.append(values if fn is None else _treated(fn, values, subjects, failed))
    for name, value in constants:  # e.g. data_redacted: True on every record
        names.append(name)
        columns.append([value] * len(records))
    for index, record in enumerate(records):
        if not record.keys() <= known and index not in failed:
            uncovered.update(record.keys() - known)
    return Columns(names, columns, failed, len(records))


def column_of(records: list[dict[str, Any]], key: str) -> list[Any]:
    """Each record's value of a top-level `key` (None where missing), in one `map`."""
    return list(map(dict.get, records, repeat(key)))


def _treated(fn: FieldFunction, values: list[Any], subjects: list[Any], failed: dict[int, TreatmentError]) -> list[Any]:
    try:
        return batch_form(fn)(values, subjects)
    except Exception:  # some value does not take the treatment: value by value, to know which
        pass
    out: list[Any] = []
    for index, (value, subject) in enumerate(zip(values, subjects, strict=True)):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(fn(value, subject))
            continue
        except TreatmentError as exc:
            problem = (exc.field_path, exc.reason)
        except Exception as exc:  # a bug, not the data's fault; the value stays out of the reason
            problem = (RECORD, f"unexpected {type(exc).__name__}")
        failed.setdefault(index, TreatmentError(*problem))  # the first field in plan order, as apply
        out.append(None)
    return out
