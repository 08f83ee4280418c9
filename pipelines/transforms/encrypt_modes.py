"""encrypt's modes beside Fernet: deterministic AES-SIV and FF1 format-preserving encryption.

deterministic (`mode: deterministic`): RFC 5297 AES-SIV (`cryptography`'s AESSIV, AES-256-SIV) with a
key derived by HKDF-SHA256 from the same data key Fernet uses (shared `encrypt.<domain>` or the
subject's key). The same value under the same key gives the same token, so joins and counts still
work; the envelope is Fernet's, with a marker: `<key-id>:siv.<base64url, unpadded>`. Rotation and
crypto-shredding work as for Fernet (the key id picks the key).

fpe (`mode: fpe`): FF1 (NIST SP 800-38G) under the domain's `fpe.<domain>` key (AES-256). Characters of
the alphabet (digits, or 0-9a-zA-Z) are encrypted in place; others (dashes, spaces) stay where they
are, so `3714-496353-98431` stays a 15-digit number with its dashes. The token has no room for a key id,
so the anonymised schema the record is written with names it (`encrypt(fpe-digits, key k…)`, see
pipelines/avro.py); `deid keys rotate` rotates `fpe.<domain>` too, workers register a schema naming the new
key, and `deid reidentify` opens each record's tokens with the key its schema names.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deid.policy import EncryptParams
from pipelines.keys.base import KeyNotFoundError, Keystore, encrypt_key_name
from pipelines.transforms.base import FieldContext, FieldFunction, TreatmentError, as_text
from pipelines.transforms.ff1 import ALPHANUMERIC, DIGITS, FF1, FF1Error

SIV_MARKER = "siv."
SIV_CACHE = 50_000
"""Per-subject AES-SIV objects a worker keeps (cleared when full; a miss costs one HKDF)."""
ALPHABETS = {"digits": DIGITS, "alphanumeric": ALPHANUMERIC}
_SIV_INFO = b"deid encrypt aes-siv v1"
_SEPARATOR = ":"


class SubjectMaterial(Protocol):
    def material(self, subject: str) -> tuple[str, bytes]:
        """(key id, key material) of the subject's current key."""


def fpe_key_name(domain: str) -> str:
    return f"fpe.{domain}"


def current_fpe_key_id(keystore: Keystore, domain: str) -> str | None:
    """The id of the domain's current FPE key, None before the first fpe rule created it."""
    try:
        return keystore.current(fpe_key_name(domain)).key_id
    except KeyNotFoundError:
        return None


def siv_for(material: bytes) -> AESSIV:
    """AES-256-SIV keyed from a data key's material (HKDF: a SIV key never equals the Fernet key)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SIV_INFO).derive(material)
    return AESSIV(derived)


def siv_token(siv: AESSIV, key_id: str, text: str) -> str:
    sealed = siv.encrypt(text.encode("utf-8"), None)
    return key_id + _SEPARATOR + SIV_MARKER + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def siv_open(siv: AESSIV, token: str) -> str:
    """The plaintext of the part after the key id; ValueError when it is not a token of this key."""
    body = token.removeprefix(SIV_MARKER)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return siv.decrypt(sealed, None).decode("utf-8")
    except (InvalidTag, ValueError, UnicodeError):
        raise ValueError("not an AES-SIV token of this key") from None


def _text(value: Any, path: str) -> str:
    text = value if type(value) is str else as_text(value)
    if text is None:
        raise TreatmentError(path, f"cannot encrypt a {type(value).__name__}")
    return text


def compile_deterministic(field: FieldContext) -> FieldFunction:
    """deterministic under the domain's shared key (its current generation)."""
    path = field.path
    name = encrypt_key_name(field.domain.name)
    field.keystore.ensure(name, "fernet")
    key = field.keystore.current(name)
    siv, key_id = siv_for(key.material), key.key_id

    def encrypt_deterministic(value: Any, _subject: Any) -> str:
        return siv_token(siv, key_id, _text(value, path))

    return encrypt_deterministic


def compile_deterministic_per_subject(field: FieldContext, keys: SubjectMaterial) -> FieldFunction:
    """deterministic under each subject's own key (`keys` is the plan's subject key cache)."""
    path = field.path
    sivs: dict[str, AESSIV] = {}  # key id → SIV; a new key id (rotation, erasure) gets a new one

    def encrypt_deterministic_for_subject(value: Any, subject: Any) -> str:
        subject_text = subject if type(subject) is str else as_text(subject)
        if subject_text is None:
            raise field.subject_error(subject)
        key_id, material = keys.material(subject_text)
        siv = sivs.get(key_id)
        if siv is None:
            if len(sivs) >= SIV_CACHE:
                sivs.clear()
            siv = sivs[key_id] = siv_for(material)
        return siv_token(siv, key_id, _text(value, path))

    return encrypt_deterministic_for_subject


def compile_fpe(params: EncryptParams, field: FieldContext) -> FieldFunction:
    path = field.path
    name = fpe_key_name(field.domain.name)
    field.keystore.ensure(name, "secret")
    cipher = FF1(field.keystore.current(name).material, ALPHABETS[params.alphabet or "digits"])
    apply = _in_place(cipher.encrypt)

    def encrypt_fpe(value: Any, _subject: Any) -> str:
        try:
            return apply(_text(value, path))
        except FF1Error as exc:
            raise TreatmentError(path, f"fpe: {exc}") from None

    return encrypt_fpe


def fpe_decryptor(keystore: Keystore, domain: str, alphabet: str, key_id: str | None = None) -> Callable[[str], str]:
    """Turns FPE tokens of `domain` back into values: under key `key_id` (what the writer schema names),
    or the current `fpe.<domain>` key for records written before schemas named it."""
    key = keystore.current(fpe_key_name(domain)) if key_id is None else keystore.by_id(key_id)
    cipher = FF1(key.material, ALPHABETS[alphabet])
    return _in_place(cipher.decrypt)


def _in_place(run: Callable[[str], str]) -> Callable[[str], str]:
    """Apply `run` to the characters of the cipher's alphabet only, leaving the others where they are."""
    alphabet = set(run.__self__.alphabet)  # type: ignore[attr-defined]  # a bound method of an FF1

    def in_place(text: str) -> str:
        if all(c in alphabet for c in text):
            return run(text)
        positions = [i for i, c in enumerate(text) if c in alphabet]
        treated = iter(run("".join(text[i] for i in positions)))
        chars = list(text)
        for i in positions:
            chars[i] = next(treated)
        return "".join(chars)

    return in_place
