"""redact: a constant replaces the value (the `data_redacted` flag is the plan's job, it is per record)."""

from __future__ import annotations

from typing import Any

from deid.policy import RedactParams
from pipelines.transforms.base import FieldContext, FieldFunction, Transform


class Redact(Transform):
    name = "redact"

    def compile(self, params: RedactParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        constant = params.value

        def redact(_value: Any, _subject: Any) -> str:
            return constant

        return redact
