"""Transforms: one small module per treatment, looked up by name in a registry (Presidio-operator shape).

Each transform compiles a rule's parameters once into a per-value function; see `base.py`.
`anonymize_text` imports the `recognizers` package (Presidio) only when a rule using it is compiled.
"""

from __future__ import annotations

from pipelines.transforms.anonymize_text import AnonymizeText
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError
from pipelines.transforms.date_shift import DateShift
from pipelines.transforms.drop import Drop
from pipelines.transforms.encrypt import Encrypt, TokenDecryptor, TokenError, split_envelope
from pipelines.transforms.generalize import Generalize
from pipelines.transforms.keep import Keep, keep_value
from pipelines.transforms.mask import Mask
from pipelines.transforms.redact import Redact
from pipelines.transforms.registry import TransformRegistry, UnknownTransformError

BUILTIN_TRANSFORMS: tuple[type[Transform], ...] = (
    Keep,
    Drop,
    Redact,
    Encrypt,
    Mask,
    DateShift,
    Generalize,
    AnonymizeText,
)


def default_registry() -> TransformRegistry:
    return TransformRegistry([cls() for cls in BUILTIN_TRANSFORMS])


__all__ = [
    "BUILTIN_TRANSFORMS",
    "FieldContext",
    "FieldFunction",
    "TokenDecryptor",
    "TokenError",
    "Transform",
    "TransformRegistry",
    "TreatmentError",
    "UnknownTransformError",
    "default_registry",
    "keep_value",
    "split_envelope",
]
