"""keep: the value goes out unchanged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pipelines.transforms.base import FieldContext, FieldFunction, Transform


def keep_value(value: Any, _subject: Any) -> Any:
    return value


class Keep(Transform):
    name = "keep"

    def compile(self, params: BaseModel, field: FieldContext) -> FieldFunction:
        return keep_value
