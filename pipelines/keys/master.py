"""The master key that wraps every data key at rest: from DEID_MASTER_KEY or DEID_MASTER_KEY_FILE.

Either holds one or more Fernet keys separated by commas (or newlines in the file): the first wraps
new keys, all of them unwrap (MultiFernet), so a master key can be replaced without losing the keys it
wrapped. The key file must live outside any git working tree (the original demo committed its key).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from pipelines.keys.base import MasterKeyError

log = logging.getLogger(__name__)

ENV_KEY, ENV_FILE = "DEID_MASTER_KEY", "DEID_MASTER_KEY_FILE"
_HOW = (
    f"set {ENV_KEY} (a Fernet key) or {ENV_FILE} (a file outside the repository holding one); "
    "`deid keys new-master-key PATH` writes a new key file"
)


class MasterKey:
    """Wraps and unwraps data keys. Its repr shows only a fingerprint, never key material."""

    __slots__ = ("_fernet", "_keys", "fingerprint", "fingerprints", "source")

    def __init__(self, keys: list[bytes], source: str) -> None:
        if not keys:
            raise MasterKeyError(f"{source}: no key given; {_HOW}")
        self._keys = list(keys)
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self.fingerprints = [fingerprint(k) for k in keys]
        self.fingerprint = self.fingerprints[0]
        self.source = source

    def wrap(self, material: bytes) -> bytes:
        return self._fernet.encrypt(material)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Raises InvalidToken when no master key given can unwrap it."""
        return self._fernet.decrypt(wrapped)

    def with_older(self, older: list[bytes], source: str) -> MasterKey:
        """This key first (it wraps), then `older` ones that only unwrap (`deid keys rewrap`)."""
        keys = self._keys + [k for k in older if k not in self._keys]
        return MasterKey(keys, f"{self.source} + {source}")

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint!r}, source={self.source!r})"


def fingerprint(key: bytes) -> str:
    """A short public name for a key: a keyed hash of a constant, which reveals nothing of the key."""
    return hmac.new(key, b"deid master key fingerprint", hashlib.sha256).hexdigest()[:16]


def parse_keys(text: str, source: str) -> list[bytes]:
    parts = [p.strip() for p in re.split(r"[,\n]", text) if p.strip()]
    keys = []
    for index, part in enumerate(parts, start=1):
        try:
            Fernet(part.encode())
        except (ValueError, TypeError):
            # Never echo the value: it may be a real key with a typo.
            raise MasterKeyError(
                f"{source}: key #{index} is not a Fernet key (32 url-safe base64-encoded bytes, 44 characters)"
            ) from None
        keys.append(part.encode())
    if not keys:
        raise MasterKeyError(f"{source}: no key given; {_HOW}")
    return keys


def git_worktree_of(path: Path) -> Path | None:
    """The git working tree containing `path`, if any."""
    for parent in [path.parent, *path.parent.parents]:
        if (parent / ".git").exists():
            return parent
    return None


def load_master_key(settings: object) -> MasterKey:
    """The master key from the settings, or MasterKeyError naming both settings."""
    secret = getattr(settings, "master_key", None)
    key_file: Path | None = getattr(settings, "master_key_file", None)
    if secret is not None and key_file is not None:
        raise MasterKeyError(f"both {ENV_KEY} and {ENV_FILE} are set; set only one")
    if secret is not None:
        return MasterKey(parse_keys(secret.get_secret_value(), ENV_KEY), ENV_KEY)
    if key_file is None:
        raise MasterKeyError(f"no master key: {_HOW}")
    return MasterKey(parse_keys(_read_key_file(key_file), f"{ENV_FILE} {key_file}"), f"{ENV_FILE} {key_file}")


def load_key_file(path: Path, source: str) -> list[bytes]:
    """The keys in a key file (outside any repository), for an option such as --old-master-key-file."""
    return parse_keys(_read_key_file(path, source), f"{source} {path}")


def _read_key_file(path: Path, source: str = ENV_FILE) -> str:
    path = path.expanduser().absolute()
    tree = git_worktree_of(path)
    if tree is not None:
        raise MasterKeyError(
            f"{source}: {path} is inside the git working tree {tree}; keep the master key outside any repository"
        )
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MasterKeyError(f"{source}: {path} does not exist; {_HOW}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"{source}: cannot read {path} ({type(exc).__name__})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s: %s is readable by other users; chmod 600 it", source, path)
    return text


def write_new_master_key(path: Path) -> str:
    """Create `path` (mode 600, never overwriting) holding a new master key; its fingerprint."""
    path = path.expanduser().absolute()
    tree = git_worktree_of(path)
    if tree is not None:
        raise MasterKeyError(f"{path} is inside the git working tree {tree}; choose a path outside any repository")
    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MasterKeyError(f"{path} already exists; deid never overwrites a key file") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return fingerprint(key)


__all__ = [
    "InvalidToken",
    "MasterKey",
    "fingerprint",
    "load_key_file",
    "load_master_key",
    "parse_keys",
    "write_new_master_key",
]
