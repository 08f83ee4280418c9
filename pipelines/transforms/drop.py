"""drop: the field is left out of the output."""

from __future__ import annotations

from pydantic import BaseModel

from pipelines.transforms.base import FieldContext, Transform


class Drop(Transform):
    name = "drop"

    def compile(self, params: BaseModel, field: FieldContext) -> None:
        return None
