"""HMAC-SHA256 and Fernet tokens without per-call set-up cost; outputs are the standard ones.

`KeyedHmac` is RFC 2104 HMAC-SHA256 from two pre-keyed hashlib states (one `copy()` each per
message instead of a new OpenSSL HMAC context): tests compare it with `hmac.digest`.

`cryptography.fernet.Fernet.encrypt` builds a new AES-CBC cipher context and a new OpenSSL HMAC
context for every value (~10 µs each); on a stream that is most of the cost per record. This
encryptor keeps one AES block cipher (ECB, used only block by block to chain CBC exactly as the spec
defines: C_i = AES(P_i xor C_{i-1}), C_0 = IV), computes HMAC-SHA256 from pre-keyed hashlib states
(RFC 2104), and draws IVs under a lock from a process-wide buffer of `os.urandom` bytes that forked
children discard, so no IV is ever handed out twice. The token layout is the Fernet spec's:

    0x80 | timestamp (8 bytes, big-endian) | IV (16) | AES-128-CBC ciphertext, PKCS7 | HMAC-SHA256 (32)

url-safe base64 encoded. Tests check every token against `cryptography.fernet.Fernet.decrypt`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_VERSION = b"\x80"
_IV_BUFFER = 16 * 4096
_pack_time = struct.Struct(">Q").pack
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_IPAD = bytes(b ^ 0x36 for b in range(256))  # RFC 2104 key xor ipad / opad, as translation tables
_OPAD = bytes(b ^ 0x5C for b in range(256))
_PADDING = [bytes((n,)) * n for n in range(17)]  # PKCS7: n bytes of value n


# IVs come from one buffer of os.urandom bytes shared by every encrypter of the process, drawn under
# _LOCK (which also serialises the AES block calls). A forked child must never reuse IVs its parent
# buffered: the fork hook bumps the epoch and the child refills before its first draw.
_LOCK = threading.Lock()
_IV_POOL: list[Any] = [b"", _IV_BUFFER, -1]  # buffer, next position, fork epoch it was drawn in
_fork_epoch = 0


def _after_fork_in_child() -> None:
    global _fork_epoch, _LOCK
    _fork_epoch += 1
    _LOCK = threading.Lock()  # the parent may have held it at fork time


os.register_at_fork(after_in_child=_after_fork_in_child)


def _draw_ivs(count: int) -> bytes:
    """16 fresh random bytes per IV wanted, in one string; the caller holds _LOCK."""
    size, pool = 16 * count, _IV_POOL
    if size > _IV_BUFFER:
        return os.urandom(size)
    position = pool[1]
    if position + size > _IV_BUFFER or pool[2] != _fork_epoch:
        pool[0], position, pool[2] = os.urandom(_IV_BUFFER), 0, _fork_epoch
    pool[1] = position + size
    return pool[0][position : position + size]  # type: ignore[no-any-return]


def new_iv() -> bytes:
    with _LOCK:
        return _draw_ivs(1)


class KeyedHmac:
    """HMAC-SHA256 with a fixed key. Its repr never shows the key."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __repr__(self) -> str:
        return "KeyedHmac(<key hidden>)"


class FastFernet:
    """encrypt() only; decrypt with `cryptography.fernet.Fernet`. Safe to share between threads.

    `encrypt_many(values)` seals a batch: one IV draw, and, when every value fits one AES block (most
    identifiers), one XOR and one AES call for the whole batch; `encrypt(value)` is a batch of one.
    """

    __slots__ = ("encrypt", "encrypt_many")

    def __init__(self, key: bytes) -> None:
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != 32:
            raise ValueError("a Fernet key is 32 url-safe base64-encoded bytes")
        many = self.encrypt_many = _fernet_encrypter(raw[:16], raw[16:])

        def encrypt(data: bytes) -> bytes:
            return many((data,))[0]

        self.encrypt = encrypt

    def __repr__(self) -> str:
        return "FastFernet(<key hidden>)"


def _fernet_encrypter(signing: bytes, encryption: bytes) -> Callable[[Sequence[bytes]], list[bytes]]:
    block = signing.ljust(64, b"\0")
    inner_start = hashlib.sha256(block.translate(_IPAD))
    outer_start = hashlib.sha256(block.translate(_OPAD))
    aes_blocks = Cipher(algorithms.AES(encryption), modes.ECB()).encryptor().update
    padding, pack_time, from_bytes, now = _PADDING, _pack_time, int.from_bytes, time.time
    b2a, urlsafe = binascii.b2a_base64, _URLSAFE  # base64.urlsafe_b64encode minus two Python-level calls

    def cbc(padded: bytes, iv: bytes) -> bytes:
        """AES-128-CBC of one padded value, block by block: C_i = AES(P_i xor C_{i-1}), C_0 = IV."""
        previous, blocks = from_bytes(iv, "big"), []
        for start in range(0, len(padded), 16):
            cipher_block = aes_blocks((from_bytes(padded[start : start + 16], "big") ^ previous).to_bytes(16, "big"))
            blocks.append(cipher_block)
            previous = from_bytes(cipher_block, "big")
        return b"".join(blocks)

    def encrypt_many(values: Sequence[bytes]) -> list[bytes]:
        padded = [data + padding[16 - len(data) % 16] for data in values]
        size = 16 * len(padded)
        with _LOCK:  # the IV pool and the ECB context (stateless per block, but not re-entrant)
            ivs = _draw_ivs(len(padded))
            if all(len(p) == 16 for p in padded):  # one block each: CBC is AES(P xor IV), all at once
                joined = (from_bytes(b"".join(padded), "big") ^ from_bytes(ivs, "big")).to_bytes(size, "big")
                sealed = aes_blocks(joined) if size else b""
                bodies = None
            else:
                bodies = [cbc(p, ivs[16 * n : 16 * n + 16]) for n, p in enumerate(padded)]
        stamp = _VERSION + pack_time(int(now()))
        inner_copy, outer_copy = inner_start.copy, outer_start.copy
        tokens: list[bytes] = []
        append = tokens.append
        for n, at in enumerate(range(0, size, 16)):
            basic = stamp + ivs[at : at + 16] + (sealed[at : at + 16] if bodies is None else bodies[n])
            inner = inner_copy()
            inner.update(basic)
            outer = outer_copy()
            outer.update(inner.digest())
            append(b2a(basic + outer.digest(), newline=False).translate(urlsafe))
        return tokens

    return encrypt_many
