"""What every transform shares: the compile-time field context, the per-value function shape, errors.

A transform is compiled once per field and policy version into a plain function
`(value, subject) -> treated value`: `value` is never None (null passes through untreated, so
"missing" stays visible), `subject` is the record's raw subject-field value (None when absent).
Everything costly (keys, HMAC/Fernet objects, parsed formats) is prepared at compile time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from deid.domains import Domain, FieldSpec

FieldFunction = Callable[[Any, Any], Any]
BatchFunction = Callable[[list[Any], list[Any]], list[Any]]
"""(values, subjects) -> treated values, one per value, None for None: a field function over a column."""


class TreatmentError(Exception):
    """A value could not be treated. The record must not go out; its reason never contains the value."""

    def __init__(self, field_path: str, reason: str) -> None:
        super().__init__(field_path, reason)
        self.field_path = field_path
        self.reason = reason

    def __str__(self) -> str:
        return f"field {self.field_path!r}: {self.reason}"


@dataclass(frozen=True)
class FieldContext:
    """What a transform may look at when it compiles for one field."""

    path: str
    spec: FieldSpec
    domain: Domain
    keystore: Any  # pipelines.keys.Keystore (Any: transforms need no keystore when they use no key)
    subject_keys: Any = None
    """The plan's shared `encrypt.SubjectKeyCache` for per-subject keys (primed a batch at a time)."""
    text_analysis: Any = None
    """`anonymize_text.TextAnalysis` (the worker's NLP engine and analyzer), or None when none was given."""

    def subject_error(self, subject: Any) -> TreatmentError:
        """Why a per-subject treatment cannot use this subject value (missing, or not a scalar)."""
        field = self.domain.subject_field
        if subject is None:
            return TreatmentError(self.path, f"the record has no subject value ({field!r})")
        return TreatmentError(self.path, f"the subject value ({field!r}) is a {type(subject).__name__}, not a scalar")


class Transform(ABC):
    """One treatment (Presidio operator shape: a name, and a factory for the per-value function)."""

    name: ClassVar[str]

    @abstractmethod
    def compile(self, params: BaseModel, field: FieldContext) -> FieldFunction | None:
        """The per-value function for `field` with these (already validated) parameters.

        None means the field is left out of the output (drop).
        """


def as_text(value: Any) -> str | None:
    """The canonical text of a JSON scalar (what mask/encrypt/date_shift work on); None for non-scalars."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    return None


def batch_form(fn: FieldFunction) -> BatchFunction:
    """The column form of a field function: its own `batch` attribute when it has one (one pass over many
    values, e.g. one cipher call), else the function itself mapped over the values. Null stays null."""
    batch: BatchFunction | None = getattr(fn, "batch", None)
    if batch is not None:
        return batch

    def mapped(values: list[Any], subjects: list[Any]) -> list[Any]:
        return [None if value is None else fn(value, subject) for value, subject in zip(values, subjects, strict=True)]

    return mapped
