"""FF1 format-preserving encryption (NIST SP 800-38G, Algorithm 7 and 8) over AES from `cryptography`.

A numeral string in radix `r` (digits 0-9, or an alphabet of up to 62 characters) encrypts to a numeral
string of the same length and alphabet: a 15-digit card number stays 15 digits. Ten Feistel rounds; the
round function is AES-CBC-MAC (PRF) over the fixed block P and the per-round block Q, extended with
AES-ECB blocks when more than 16 bytes are needed. Checked against NIST's FF1 samples 1-9.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

DIGITS = "0123456789"
ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
MIN_DOMAIN = 1_000_000  # SP 800-38G Rev. 1: radix ** minlen >= 1,000,000
_ROUNDS = 10


class FF1Error(ValueError):
    """Input the cipher cannot take (too short, a character outside the alphabet); never names the value."""


class FF1:
    """FF1 with one AES key (16, 24 or 32 bytes) over `alphabet` (its radix is its length)."""

    def __init__(self, key: bytes, alphabet: str = DIGITS) -> None:
        if len(key) not in (16, 24, 32):
            raise FF1Error("FF1 needs an AES key of 16, 24 or 32 bytes")
        if not 2 <= len(alphabet) <= 2**16 or len(set(alphabet)) != len(alphabet):
            raise FF1Error("FF1 needs an alphabet of 2 to 65536 distinct characters")
        self.alphabet, self.radix = alphabet, len(alphabet)
        self._index = {c: i for i, c in enumerate(alphabet)}
        self._aes = algorithms.AES(key)
        self._ecb = Cipher(self._aes, modes.ECB()).encryptor()
        self._p_cache: dict[tuple[bytes], int] = {}
        minlen = 2
        while self.radix**minlen < MIN_DOMAIN:
            minlen += 1
        self.min_length = minlen

    def encrypt(self, text: str, tweak: bytes = b"") -> str:
        return self._run(text, tweak, decrypt=False)

    def decrypt(self, text: str, tweak: bytes = b"") -> str:
        return self._run(text, tweak, decrypt=True)

    # -- the algorithm -----------------------------------------------------------------------------

    def _numerals(self, text: str) -> list[int]:
        try:
            return [self._index[c] for c in text]
        except KeyError:
            raise FF1Error(f"a character is outside the {self.radix}-character alphabet") from None

    def _run(self, text: str, tweak: bytes, *, decrypt: bool) -> str:
        n, radix = len(text), self.radix
        if n < self.min_length:
            raise FF1Error(f"FF1 in radix {radix} needs at least {self.min_length} characters, got {n}")
        if n > 2**32 - 1:
            raise FF1Error("value too long for FF1")
        x = self._numerals(text)
        u, v = n // 2, n - n // 2
        a, b = _num(x[:u], radix), _num(x[u:], radix)
        t = len(tweak)
        bytes_b = ((radix**v - 1).bit_length() + 7) // 8
        d = 4 * ((bytes_b + 3) // 4) + 4
        p = (
            bytes([1, 2, 1])
            + radix.to_bytes(3, "big")
            + bytes([10, u % 256])
            + n.to_bytes(4, "big")
            + t.to_bytes(4, "big")
        )
        pad = bytes((-t - bytes_b - 1) % 16)
        mod_u, mod_v = radix**u, radix**v
        chain = self._chain_after(p)
        rounds = range(_ROUNDS - 1, -1, -1) if decrypt else range(_ROUNDS)
        for i in rounds:
            m_mod = mod_u if i % 2 == 0 else mod_v
            if decrypt:
                y = self._round(chain, tweak + pad + bytes([i]) + a.to_bytes(bytes_b, "big"), d)
                a, b = (b - y) % m_mod, a
            else:
                y = self._round(chain, tweak + pad + bytes([i]) + b.to_bytes(bytes_b, "big"), d)
                a, b = b, (a + y) % m_mod
        return _str(a, u, self.alphabet) + _str(b, v, self.alphabet)

    def _chain_after(self, p: bytes) -> int:
        """CBC-MAC state after the fixed block P (the same for every round of one value length)."""
        key = (p,)
        state = self._p_cache.get(key)
        if state is None:
            if len(self._p_cache) > 256:
                self._p_cache.clear()
            state = self._p_cache[key] = int.from_bytes(self._ecb.update(p), "big")
        return state

    def _round(self, chain: int, q: bytes, d: int) -> int:
        """PRF(P || Q) (AES-CBC-MAC, zero IV, chained block by block on one ECB context), extended to d bytes."""
        encrypt, state = self._ecb.update, chain
        for start in range(0, len(q), 16):
            block = state ^ int.from_bytes(q[start : start + 16], "big")
            state = int.from_bytes(encrypt(block.to_bytes(16, "big")), "big")
        s = state.to_bytes(16, "big")
        for j in range(1, (d + 15) // 16):
            s += encrypt((state ^ j).to_bytes(16, "big"))
        return int.from_bytes(s[:d], "big")


def _num(numerals: list[int], radix: int) -> int:
    value = 0
    for numeral in numerals:
        value = value * radix + numeral
    return value


def _str(value: int, length: int, alphabet: str) -> str:
    radix, out = len(alphabet), []
    for _ in range(length):
        value, digit = divmod(value, radix)
        out.append(alphabet[digit])
    return "".join(reversed(out))
