"""The keystore interface: named, versioned data keys wrapped by a master key; per-subject keys.

Key names say what a key is for:
  `encrypt.<domain>`      Fernet key of the domain's shared-scope `encrypt` rules (rotatable)
  `mask.<key>`            HMAC-SHA256 secret of `mask` rules (`mask.default` unless a rule names another)
  `date_shift.default`    HMAC-SHA256 secret the per-subject date offsets derive from
  `subject.<scope>.<ref>` one subject's Fernet key (`encrypt` with key_scope subject); <ref> is a keyed
                          hash of the subject id, so the store never holds subject ids in clear
Each key has an opaque id (`k…` shared, `s…` per subject) that travels with what it protects (the
token envelope of `encrypt`), so rotation and erasure work per id. Key material never appears in a
repr, a log line or an exception.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from deid.errors import ConfigError, DeidError

KeyKind = Literal["fernet", "secret"]
DATE_SHIFT_KEY = "date_shift.default"


def encrypt_key_name(domain: str) -> str:
    return f"encrypt.{domain}"


def mask_key_name(key: str) -> str:
    return f"mask.{key}"


class KeystoreError(DeidError):
    """The keystore cannot do what was asked; the message names the key by name or id, never its material."""


class MasterKeyError(ConfigError):
    """No usable master key: the message names DEID_MASTER_KEY and DEID_MASTER_KEY_FILE."""


class KeyNotFoundError(KeystoreError):
    pass


class KeyErasedError(KeystoreError):
    """The key was destroyed (crypto-shredding): what it protected is unreadable by design."""


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its material."""

    key_id: str
    name: str
    kind: KeyKind
    generation: int
    created: datetime
    erased: datetime | None = None

    @property
    def status(self) -> str:
        return "erased" if self.erased else "active"


@dataclass(frozen=True)
class DataKey:
    """An unwrapped key. `material` is bytes (a Fernet key's url-safe base64, or a raw HMAC secret)."""

    info: KeyInfo
    material: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return self.info.key_id

    def __repr__(self) -> str:
        return f"DataKey(id={self.info.key_id!r}, name={self.info.name!r}, kind={self.info.kind!r})"


def utc_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Keystore(ABC):
    """Where data keys live. Implementations are safe to share between threads and processes."""

    @abstractmethod
    def ensure(self, name: str, kind: KeyKind) -> KeyInfo:
        """The current key of `name`, created if there is none (concurrent callers all get the same one)."""

    @abstractmethod
    def rotate(self, name: str) -> KeyInfo:
        """A new current key for `name`; older ones stay readable by id."""

    @abstractmethod
    def current(self, name: str) -> DataKey:
        """The newest active key of `name`; KeyNotFoundError when there is none."""

    @abstractmethod
    def by_id(self, key_id: str) -> DataKey:
        """One key by id; KeyErasedError if it was erased, KeyNotFoundError if never known."""

    @abstractmethod
    def keys_named(self, name: str) -> list[DataKey]:
        """Every active key of `name`, newest first (for MultiFernet)."""

    @abstractmethod
    def list_keys(self, include_subject_keys: bool = False) -> list[KeyInfo]:
        """Keys in name and generation order (per-subject keys only when asked: there can be millions)."""

    @abstractmethod
    def subject_key_counts(self) -> tuple[int, int]:
        """(active, erased) per-subject keys."""

    @abstractmethod
    def subject_key(self, scope: str, subject: str) -> DataKey:
        """This subject's current Fernet key in `scope` (usually the domain), created on first use."""

    def subject_keys(self, scope: str, subjects: Collection[str]) -> dict[str, DataKey]:
        """Each subject's current key in `scope`, created where missing (a batch of new subjects at once).

        Implementations create all missing keys in one transaction; this default asks one by one.
        """
        return {subject: self.subject_key(scope, subject) for subject in set(subjects)}

    @abstractmethod
    def erase_subject(self, scope: str, subject: str, scrub: bool = True) -> list[str]:
        """Destroy every key of this subject in `scope`; the ids erased (empty if it had none).

        `scrub`: then make the storage drop the destroyed bytes (`scrub()`); callers erasing in several
        scopes pass False and scrub once at the end.
        """

    def scrub(self) -> bool:
        """Make the storage drop the bytes of erased keys; False if it could not finish (default: nothing to do)."""
        return True

    @abstractmethod
    def subject_ref(self, scope: str, subject: str) -> str:
        """A keyed hash standing for the subject in `scope` (audits name it instead of the subject id)."""

    @abstractmethod
    def subject_scopes(self) -> list[str]:
        """Every scope that holds per-subject keys (active or erased)."""

    @abstractmethod
    def subject_key_infos(self, scope: str, subject: str) -> list[KeyInfo]:
        """Every key the subject ever had in `scope`, erased ones included; never creates one."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""
