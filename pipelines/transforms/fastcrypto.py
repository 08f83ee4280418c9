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
from collections.abc import Callable
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


def _draw_iv() -> bytes:
    """16 fresh random bytes; the caller holds _LOCK."""
    pool = _IV_POOL
    position = pool[1]
    if position >= _IV_BUFFER or pool[2] != _fork_epoch:
        pool[0], position, pool[2] = os.urandom(_IV_BUFFER), 0, _fork_epoch
    pool[1] = position + 16
    return pool[0][position : position + 16]  # type: ignore[no-any-return]


def new_iv() -> bytes:
    with _LOCK:
        return _draw_iv()


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

    `encrypt` is a closure over pre-bound locals: attribute look-ups per call cost a measurable share.
    """

    __slots__ = ("encrypt",)

    def __init__(self, key: bytes) -> None:
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != 32:
            raise ValueError("a Fernet key is 32 url-safe base64-encoded bytes")
        self.encrypt = _fernet_encrypter(raw[:16], raw[16:])

    def __repr__(self) -> str:
        return "FastFernet(<key hidden>)"


def _fernet_encrypter(signing: bytes, encryption: bytes) -> Callable[[bytes], bytes]:
    block = signing.ljust(64, b"\0")
    inner_start = hashlib.sha256(block.translate(_IPAD))
    outer_start = hashlib.sha256(block.translate(_OPAD))
    aes_block = Cipher(algorithms.AES(encryption), modes.ECB()).encryptor().update
    padding, pack_time, from_bytes, now = _PADDING, _pack_time, int.from_bytes, time.time
    b2a, urlsafe = binascii.b2a_base64, _URLSAFE  # base64.urlsafe_b64encode minus two Python-level calls
    pool, urandom = _IV_POOL, os.urandom

    def encrypt(data: bytes) -> bytes:
        padded = data + padding[16 - len(data) % 16]
        with _LOCK:  # the IV pool and the ECB context (stateless per block, but not re-entrant)
            position = pool[1]  # the IV draw of _draw_iv, inlined: this runs once per value
            if position >= _IV_BUFFER or pool[2] != _fork_epoch:
                pool[0], position, pool[2] = urandom(_IV_BUFFER), 0, _fork_epoch
            pool[1] = position + 16
            iv = pool[0][position : position + 16]
            previous = from_bytes(iv, "big")
            if len(padded) == 16:  # most identifiers: one block
                body = aes_block((from_bytes(padded, "big") ^ previous).to_bytes(16, "big"))
            else:
                blocks = []
                for start in range(0, len(padded), 16):
                    cipher_block = aes_block(
                        (from_bytes(padded[start : start + 16], "big") ^ previous).to_bytes(16, "big")
                    )
                    blocks.append(cipher_block)
                    previous = from_bytes(cipher_block, "big")
                body = b"".join(blocks)
        basic = _VERSION + pack_time(int(now())) + iv + body
        inner = inner_start.copy()
        inner.update(basic)
        outer = outer_start.copy()
        outer.update(inner.digest())
        return b2a(basic + outer.digest(), newline=False).translate(urlsafe)

    return encrypt
