"""encrypt: a Fernet token in an envelope that names its key, reversible by `deid reidentify`.

Modes (`params.mode`): fernet (here), deterministic (AES-SIV) and fpe (FF1): see `encrypt_modes.py`.

Token envelope (what the anonymised record holds):  `<key-id>:<fernet-token>`
  key-id        the keystore id of the key used: `k…` a domain's shared key, `s…` one subject's key
  fernet-token  a standard Fernet token (url-safe base64); `Fernet(key).decrypt(token)` gives the
                value's text (numbers and booleans as their JSON text)
The id lets a reader pick the right key after rotation (old keys stay readable) and report a
crypto-shredded subject as erased instead of as corrupt. Fernet tokens never contain ':'.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from deid.policy import EncryptParams
from pipelines.keys.base import DataKey, Keystore, KeystoreError, encrypt_key_name
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError, as_text
from pipelines.transforms.encrypt_modes import (
    SIV_MARKER,
    compile_deterministic,
    compile_deterministic_per_subject,
    compile_fpe,
    siv_for,
    siv_open,
    siv_token,
)
from pipelines.transforms.fastcrypto import FastFernet

ENVELOPE_SEPARATOR = ":"
SUBJECT_KEY_CACHE = 50_000
"""Per-subject keys kept unwrapped in a worker (bounded; a subject's first event costs a keystore read)."""
SUBJECT_KEY_TTL = 60.0
"""Seconds a worker reuses a cached subject key before asking the keystore again (erasure takes effect)."""


class Encrypt(Transform):
    name = "encrypt"

    def compile(self, params: EncryptParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        path = field.path
        if params.mode == "fpe":
            return compile_fpe(params, field)
        if params.mode == "deterministic":
            if params.key_scope == "subject":
                return compile_deterministic_per_subject(field, _subject_cache(field))
            return compile_deterministic(field)
        if params.key_scope == "subject":
            return _subject_scoped(field)
        name = encrypt_key_name(field.domain.name)
        field.keystore.ensure(name, "fernet")
        key = field.keystore.current(name)
        prefix = key.key_id + ENVELOPE_SEPARATOR
        encrypt_many = FastFernet(key.material).encrypt_many

        def encrypt_column(values: list[Any], _subjects: list[Any]) -> list[Any]:
            """The batch form: every value of the column sealed in one FastFernet call; null stays null."""
            texts = [v.encode() if type(v) is str else _plaintext(v, path) for v in values if v is not None]
            sealed = encrypt_many(texts)
            if len(sealed) == len(values):  # no null: token by token
                return [prefix + token.decode("ascii") for token in sealed]
            tokens = iter(sealed)
            return [None if value is None else prefix + next(tokens).decode("ascii") for value in values]

        def encrypt_shared(value: Any, subject: Any) -> str:
            return encrypt_column([value], [subject])[0]  # type: ignore[no-any-return]

        encrypt_shared.batch = encrypt_column  # type: ignore[attr-defined]
        return encrypt_shared


def _plaintext(value: Any, path: str) -> bytes:
    text = value if type(value) is str else as_text(value)
    if text is None:
        raise TreatmentError(path, f"cannot encrypt a {type(value).__name__}")
    return text.encode()


class SubjectKeyCache:
    """Per-subject encrypters of one key scope (the domain), bounded, filled in bulk a batch at a time.

    `prime(subjects)` (the worker calls it once per batch) fetches every subject whose entry is missing
    or older than `ttl` seconds in one keystore call, which creates all new subjects' keys in one
    transaction. `get` serves a record; a miss (no prime) asks the keystore for that one subject.
    Entries expire after `ttl` so a running worker stops using an erased subject's key within that time
    and picks up the fresh key the keystore then creates.
    """

    def __init__(
        self,
        keystore: Keystore,
        scope: str,
        maxsize: int = SUBJECT_KEY_CACHE,
        ttl: float = SUBJECT_KEY_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keystore, self.scope, self.maxsize, self.ttl, self.clock = keystore, scope, maxsize, ttl, clock
        self.used = False
        """Set when an encrypt rule compiled against this cache (the plan primes only caches in use)."""
        self.entries: dict[str, tuple[str, Callable[[bytes], bytes], float, bytes]] = {}
        """subject → (envelope prefix, encrypt function, expiry on `clock`, key material)."""

    def get(self, subject: str) -> tuple[str, Callable[[bytes], bytes]]:
        entry = self.entries.get(subject)
        if entry is None or entry[2] < self.clock():
            return self._store({subject: self.keystore.subject_key(self.scope, subject)})[subject]
        return entry[0], entry[1]

    def material(self, subject: str) -> tuple[str, bytes]:
        """(key id, key material) of the subject's current key (deterministic mode derives from it)."""
        entry = self.entries.get(subject)
        if entry is None or entry[2] < self.clock():
            self._store({subject: self.keystore.subject_key(self.scope, subject)})
            entry = self.entries[subject]
        return entry[0][: -len(ENVELOPE_SEPARATOR)], entry[3]

    def prime(self, subjects: Collection[str]) -> int:
        """Make sure every subject has a fresh entry; the number of subjects fetched from the keystore."""
        now, entries = self.clock(), self.entries
        wanted = [s for s in subjects if (entry := entries.get(s)) is None or entry[2] < now]
        if wanted:
            self._store(self.keystore.subject_keys(self.scope, wanted))
        return len(wanted)

    def _store(self, keys: dict[str, DataKey]) -> dict[str, tuple[str, Callable[[bytes], bytes]]]:
        entries, expires = self.entries, self.clock() + self.ttl
        stored = {}
        for subject, key in keys.items():
            prefix, encrypt = key.key_id + ENVELOPE_SEPARATOR, FastFernet(key.material).encrypt
            entries.pop(subject, None)  # re-inserted at the end: eviction goes oldest first
            entries[subject] = (prefix, encrypt, expires, key.material)
            stored[subject] = (prefix, encrypt)
        while len(entries) > self.maxsize:
            del entries[next(iter(entries))]
        return stored

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"SubjectKeyCache(scope={self.scope!r}, entries={len(self.entries)})"


def _subject_cache(field: FieldContext) -> SubjectKeyCache:
    """The plan's per-subject key cache (or one of this rule's own), marked in use so the plan primes it."""
    cache = field.subject_keys if field.subject_keys is not None else SubjectKeyCache(field.keystore, field.domain.name)
    cache.used = True
    return cache


def _subject_scoped(field: FieldContext) -> FieldFunction:
    path = field.path
    cache = _subject_cache(field)
    entries, clock, load = cache.entries, cache.clock, cache.get  # bound once: this runs per record

    def encrypt_for_subject(value: Any, subject: Any) -> str:
        text = value if type(value) is str else as_text(value)
        subject_text = subject if type(subject) is str else as_text(subject)
        if subject_text is None:
            raise field.subject_error(subject)
        if text is None:
            raise TreatmentError(path, f"cannot encrypt a {type(value).__name__}")
        entry = entries.get(subject_text)
        if entry is None or entry[2] < clock():
            prefix, encrypt = load(subject_text)
        else:
            prefix, encrypt = entry[0], entry[1]
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
        if key_id is not None and token.startswith(SIV_MARKER):
            try:
                return siv_open(siv_for(self._keystore.by_id(key_id).material), token)
            except ValueError:
                raise TokenError(f"the token does not decrypt with key {key_id!r}") from None
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
        if key_id is not None and token.startswith(SIV_MARKER):  # deterministic: re-seal under the current key
            return siv_token(siv_for(current.material), current.key_id, self.decrypt(envelope))
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
