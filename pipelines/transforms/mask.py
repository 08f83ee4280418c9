"""mask: a keyed HMAC-SHA256 pseudonym (hex or base64url, optionally truncated).

Same input and key → same output, so joins and counts per person still work; without the key it
cannot be reversed, not even by trying every 15-digit card number (which bare SHA-256 allowed).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from deid.policy import MaskParams
from pipelines.keys.base import mask_key_name
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError, as_text
from pipelines.transforms.fastcrypto import KeyedHmac

MASK_CACHE = 65_536
"""Distinct values whose pseudonym a mask rule keeps (bounded: cleared when full)."""


class Mask(Transform):
    name = "mask"

    def compile(self, params: MaskParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        key_name = mask_key_name(params.key)
        field.keystore.ensure(key_name, "secret")
        return mask_function(field.keystore.current(key_name).material, params, field.path)


def mask_function(secret: bytes, params: MaskParams, path: str) -> FieldFunction:
    digest = KeyedHmac(secret).digest
    length = params.length

    def bytes_of(value: Any) -> bytes:
        if type(value) is str:
            return value.encode()
        text = as_text(value)
        if text is None:
            raise TreatmentError(path, f"cannot mask a {type(value).__name__}")
        return text.encode()

    if params.encoding == "hex":

        def mask_hex(value: Any) -> str:
            return digest(bytes_of(value)).hex()[:length]

        return _remembered(mask_hex)

    encode = base64.urlsafe_b64encode

    def mask_base64url(value: Any) -> str:
        return encode(digest(bytes_of(value))).decode("ascii").rstrip("=")[:length]

    return _remembered(mask_base64url)


def _remembered(pseudonym: Callable[[Any], str]) -> FieldFunction:
    """The field function, remembering the pseudonyms of the last MASK_CACHE distinct values: the output
    depends on the value only, and values repeat (a subject's id on every event). Strings only: as keys,
    1, 1.0 and True would be one."""
    cache: dict[str, str] = {}
    cached = cache.get

    def mask(value: Any, _subject: Any) -> str:
        if type(value) is not str:
            return pseudonym(value)
        found = cached(value)
        if found is None:
            if len(cache) >= MASK_CACHE:
                cache.clear()
            found = cache[value] = pseudonym(value)
        return found

    return mask
