"""Transforms by treatment name, like Presidio's OperatorsFactory: built-ins plus any added later."""

from __future__ import annotations

from pipelines.transforms.base import Transform


class UnknownTransformError(LookupError):
    pass


class TransformRegistry:
    def __init__(self, transforms: list[Transform] | None = None) -> None:
        self._transforms: dict[str, Transform] = {}
        for transform in transforms or []:
            self.add(transform)

    def add(self, transform: Transform) -> None:
        self._transforms[transform.name] = transform

    def get(self, name: str) -> Transform:
        try:
            return self._transforms[name]
        except KeyError:
            raise UnknownTransformError(
                f"treatment {name!r} is not available in this build (available: {', '.join(self.names)})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._transforms

    @property
    def names(self) -> list[str]:
        return sorted(self._transforms)
