"""Keys: a keystore interface, the local (SQL) keystore and the master key that wraps it at rest."""

from __future__ import annotations

from typing import Any

from pipelines.keys.base import (
    DATE_SHIFT_KEY,
    DataKey,
    KeyErasedError,
    KeyInfo,
    KeyKind,
    KeyNotFoundError,
    Keystore,
    KeystoreError,
    MasterKeyError,
    encrypt_key_name,
    mask_key_name,
)
from pipelines.keys.local import LocalKeystore


def open_keystore(settings: Any) -> Keystore:
    """The keystore these settings name (today: the local one under `<data_dir>/keys/`)."""
    return LocalKeystore.open(settings)


def init_keys(keystore: Keystore, domains: list[str]) -> list[tuple[KeyInfo, bool]]:
    """Create the keys policies use (idempotent): (key, created now?) for each."""
    wanted: list[tuple[str, KeyKind]] = [(DATE_SHIFT_KEY, "secret"), (mask_key_name("default"), "secret")]
    wanted += [(encrypt_key_name(d), "fernet") for d in domains]
    before = {k.name for k in keystore.list_keys()}
    return [(keystore.ensure(name, kind), name not in before) for name, kind in wanted]


__all__ = [
    "DATE_SHIFT_KEY",
    "DataKey",
    "KeyErasedError",
    "KeyInfo",
    "KeyNotFoundError",
    "Keystore",
    "KeystoreError",
    "LocalKeystore",
    "MasterKeyError",
    "encrypt_key_name",
    "init_keys",
    "mask_key_name",
    "open_keystore",
]
