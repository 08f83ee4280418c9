"""encrypt: a Fernet token in an envelope that names its key, reversible by `deid reidentify`.

Token envelope (what the anonymised record holds):  `<key-id>:<fernet-token>`
  key-id        the keystore id of the key used: `k…` a domain's shared key, `s…` one subject's key
  fernet-token  a standard Fernet token (url-safe base64); `Fernet(key).decrypt(token)` gives the
                value's text (numbers and booleans as their JSON text)
The id lets a reader pick the right key after rotation (old keys stay readable) and report a
crypto-shredded subject as erased instead of as corrupt. Fernet tokens never contain ':'.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from deid.policy import EncryptParams
from pipelines.keys.base import Keystore, KeystoreError, encrypt_key_name
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError, as_text
from pipelines.transforms.fastcrypto import FastFernet

ENVELOPE_SEPARATOR = ":"
SUBJECT_KEY_CACHE = 50_000
"""Per-subject keys kept unwrapped in a worker (bounded; a subject's first event costs a keystore read)."""


class Encrypt(Transform):
    name = "encrypt"

    def compile(self, params: EncryptParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        path = field.path
        if params.key_scope == "subject":
            return _subject_scoped(field)
        name = encrypt_key_name(field.domain.name)
        field.keystore.ensure(name, "fernet")
        key = field.keystore.current(name)
        prefix = key.key_id + ENVELOPE_SEPARATOR
        encrypt = FastFernet(key.material).encrypt

        def encrypt_shared(value: Any, _subject: Any) -> str:
            text = value if type(value) is str else as_text(value)
            if text is None:
                raise TreatmentError(path, f"cannot encrypt a {type(value).__name__}")
            return prefix + encrypt(text.encode()).decode("ascii")

        return encrypt_shared


def _subject_scoped(field: FieldContext) -> FieldFunction:
    path, scope, keystore = field.path, field.domain.name, field.keystore

    @lru_cache(maxsize=SUBJECT_KEY_CACHE)
    def encrypter(subject: str) -> tuple[str, Any]:
        key = keystore.subject_key(scope, subject)
        return key.key_id + ENVELOPE_SEPARATOR, FastFernet(key.material).encrypt

    def encrypt_for_subject(value: Any, subject: Any) -> str:
        text = value if type(value) is str else as_text(value)
        subject_text = subject if type(subject) is str else as_text(subject)
        if subject_text is None:
            raise field.subject_error(subject)
        if text is None:
            raise TreatmentError(path, f"cannot encrypt a {type(value).__name__}")
        prefix, encrypt = encrypter(subject_text)
        return prefix + encrypt(text.encode()).decode("ascii")

    return encrypt_for_subject


class TokenError(KeystoreError):
    """A value is not a token deid can decrypt (malformed, wrong key); never echoes the token."""


def split_envelope(envelope: str) -> tuple[str | None, str]:
    """(key id, Fernet token); the key id is None for a bare Fernet token."""
    key_id, separator, token = envelope.rpartition(ENVELOPE_SEPARATOR)
    return (key_id, token) if separator else (None, envelope)


class TokenDecryptor:
    """Turns envelopes back into values, finding each key by the id it carries."""

    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore
        self._fernets: dict[str, Fernet] = {}

    def decrypt(self, envelope: str, fallback_key_name: str | None = None) -> str:
        """The plaintext; KeyErasedError for a crypto-shredded subject, TokenError for anything unreadable.

        A bare token (no key id) is tried against every key of `fallback_key_name` (MultiFernet).
        """
        key_id, token = split_envelope(envelope)
        if key_id is None:
            if fallback_key_name is None:
                raise TokenError("the token carries no key id")
            fernet: Fernet | MultiFernet = MultiFernet(
                [Fernet(k.material) for k in self._keystore.keys_named(fallback_key_name)]
            )
        else:
            fernet = self._fernet(key_id)
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise TokenError(f"the token does not decrypt with key {key_id or fallback_key_name!r}") from None

    def rotate(self, envelope: str, key_name: str) -> str:
        """Re-encrypt a shared-key token under the current key of `key_name` (MultiFernet.rotate)."""
        key_id, token = split_envelope(envelope)
        current = self._keystore.current(key_name)
        old = (
            self._fernet(key_id)
            if key_id
            else MultiFernet([Fernet(k.material) for k in self._keystore.keys_named(key_name)])
        )
        rotated = MultiFernet([Fernet(current.material), old]).rotate(token.encode("ascii"))  # type: ignore[list-item]
        return current.key_id + ENVELOPE_SEPARATOR + rotated.decode("ascii")

    def _fernet(self, key_id: str) -> Fernet:
        fernet = self._fernets.get(key_id)
        if fernet is None:
            fernet = Fernet(self._keystore.by_id(key_id).material)
            if key_id.startswith("k"):  # shared keys only: an erased subject key must not linger here
                self._fernets[key_id] = fernet
        return fernet
