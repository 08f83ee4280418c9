"""FF1 against the NIST SP 800-38G sample vectors (FF1 samples 1-9), both directions."""

from __future__ import annotations

import random

import pytest

from pipelines.transforms.ff1 import DIGITS, FF1, FF1Error

KEY128 = "2B7E151628AED2A6ABF7158809CF4F3C"
KEY192 = KEY128 + "EF4359D8D580AA4F"
KEY256 = KEY192 + "7F036D6F04FC6A94"
TWEAK2 = "39383736353433323130"
TWEAK3 = "3737373770717273373737"
RADIX36 = "0123456789abcdefghijklmnopqrstuvwxyz"
PT10, PT36 = "0123456789", "0123456789abcdefghi"

NIST_SAMPLES = [
    (1, KEY128, "", DIGITS, PT10, "2433477484"),
    (2, KEY128, TWEAK2, DIGITS, PT10, "6124200773"),
    (3, KEY128, TWEAK3, RADIX36, PT36, "a9tv40mll9kdu509eum"),
    (4, KEY192, "", DIGITS, PT10, "2830668132"),
    (5, KEY192, TWEAK2, DIGITS, PT10, "2496655549"),
    (6, KEY192, TWEAK3, RADIX36, PT36, "xbj3kv35jrawxv32ysr"),
    (7, KEY256, "", DIGITS, PT10, "6657667009"),
    (8, KEY256, TWEAK2, DIGITS, PT10, "1001623463"),
    (9, KEY256, TWEAK3, RADIX36, PT36, "xs8a0azh2avyalyzuwd"),
]


@pytest.mark.parametrize(("sample", "key", "tweak", "alphabet", "plain", "cipher"), NIST_SAMPLES)
def test_nist_sample(sample: int, key: str, tweak: str, alphabet: str, plain: str, cipher: str) -> None:
    ff1 = FF1(bytes.fromhex(key), alphabet)
    assert ff1.encrypt(plain, bytes.fromhex(tweak)) == cipher, f"sample {sample}"
    assert ff1.decrypt(cipher, bytes.fromhex(tweak)) == plain, f"sample {sample}"


def test_round_trip_keeps_length_and_alphabet() -> None:
    ff1 = FF1(bytes(range(32)))
    rng = random.Random(7)
    for length in (6, 7, 15, 16, 19, 40, 80):  # 80 digits: the PRF output is extended past one block
        for _ in range(20):
            plain = "".join(rng.choice(DIGITS) for _ in range(length))
            token = ff1.encrypt(plain)
            assert len(token) == length and token.isdigit()
            assert ff1.decrypt(token) == plain


def test_too_short_and_foreign_characters_are_refused_without_the_value() -> None:
    ff1 = FF1(bytes(16))
    with pytest.raises(FF1Error, match="at least 6") as short:
        ff1.encrypt("12345")
    assert "12345" not in str(short.value)
    with pytest.raises(FF1Error, match="outside") as foreign:
        ff1.encrypt("12345x789")
    assert "12345x789" not in str(foreign.value)
    with pytest.raises(FF1Error, match="AES key"):
        FF1(b"short")
