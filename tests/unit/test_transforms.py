"""Transforms, property-tested: determinism, formats, reversibility, bounds, idempotence."""

from __future__ import annotations

import base64
import hmac
import ipaddress
import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.domains import Domain, parse_domains
from deid.policy import make_rule
from deid.settings import Settings
from pipelines.keys import Keystore, LocalKeystore, encrypt_key_name
from pipelines.transforms import (
    FieldContext,
    TokenDecryptor,
    TokenError,
    TreatmentError,
    UnknownTransformError,
    default_registry,
    split_envelope,
)
from pipelines.transforms.dates import DateCodec
from pipelines.transforms.fastcrypto import FastFernet, KeyedHmac
from pipelines.transforms.generalize import bucket_floor

settings.register_profile("deid", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("deid")

DOMAIN: Domain = parse_domains(
    {
        "sample": {
            "subject_field": "user_id",
            "fields": {
                "user_id": {"type": "string"},
                "email": {"type": "string"},
                "ip": {"type": "string"},
                "postcode": {"type": "string"},
                "amount": {"type": "double"},
                "count": {"type": "int"},
                "flag": {"type": "boolean"},
                "day": {"type": "date", "format": "%d-%m-%Y"},
                "us_day": {"type": "date", "format": "%m-%d-%Y"},
                "iso_day": {"type": "date", "format": "%Y-%m-%d"},
                "at": {"type": "timestamp", "format": "%Y-%m-%dT%H:%M:%S%z"},
            },
        }
    },
    "test",
)["sample"]
DATE_FIELDS = ["day", "us_day", "iso_day", "at"]
REGISTRY = default_registry()

subjects = st.text(alphabet=string.ascii_letters + string.digits + "-_@.", min_size=1, max_size=24)
datetimes = st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
scalars = st.one_of(st.text(max_size=60), st.integers(), st.booleans(), st.floats(allow_nan=False))


def compiled(keystore: Keystore, field: str, treatment: str, **params: Any) -> Any:
    rule = make_rule(treatment, **params)
    context = FieldContext(field, DOMAIN.fields[field], DOMAIN, keystore)
    return REGISTRY.get(treatment).compile(rule.params, context)


def formatted(value: datetime, field: str) -> str:
    fmt = DOMAIN.fields[field].format
    assert fmt is not None
    return (value.replace(tzinfo=UTC) if "%z" in fmt else value).strftime(fmt)


# --- the fast primitives produce the standard outputs ---


@given(key=st.binary(min_size=1, max_size=100), message=st.binary(max_size=300))
def test_keyed_hmac_is_hmac_sha256(key: bytes, message: bytes) -> None:
    assert KeyedHmac(key).digest(message) == hmac.digest(key, message, "sha256")


@given(data=st.binary(max_size=200))
def test_fast_fernet_tokens_decrypt_with_cryptography_fernet(data: bytes) -> None:
    key = Fernet.generate_key()
    token = FastFernet(key).encrypt(data)
    assert Fernet(key).decrypt(token) == data
    assert token != FastFernet(key).encrypt(data)  # fresh IV every time


def test_fast_fernet_never_repeats_an_iv() -> None:
    fernet = FastFernet(Fernet.generate_key())
    ivs = {base64.urlsafe_b64decode(fernet.encrypt(b"x"))[9:25] for _ in range(20_000)}
    assert len(ivs) == 20_000
    assert "key" in repr(fernet) and Fernet.generate_key().decode() not in repr(fernet)


# --- keep, drop, redact ---


def test_keep_drop_redact(keystore: Keystore) -> None:
    assert compiled(keystore, "email", "keep")("a@b.c", None) == "a@b.c"
    assert compiled(keystore, "email", "drop") is None
    assert compiled(keystore, "email", "redact")("a@b.c", None) == "REDACTED_CONTENT"
    assert compiled(keystore, "count", "redact", value="***")(42, None) == "***"


def test_registry_has_every_builtin_and_names_what_is_missing() -> None:
    assert REGISTRY.names == ["anonymize_text", "date_shift", "drop", "encrypt", "generalize", "keep", "mask", "redact"]
    with pytest.raises(UnknownTransformError, match="'tokenize' is not available in this build"):
        REGISTRY.get("tokenize")


# --- encrypt ---


@given(value=scalars)
def test_encrypt_is_reversible_and_tokens_are_standard_fernet(keystore: Keystore, value: Any) -> None:
    encrypt = compiled(keystore, "user_id", "encrypt")
    envelope = encrypt(value, None)
    key_id, token = split_envelope(envelope)
    assert key_id is not None and re.fullmatch(r"k[0-9a-f]{20}", key_id)
    text = (
        value if isinstance(value, str) else ("true" if value is True else "false" if value is False else repr(value))
    )
    assert Fernet(keystore.by_id(key_id).material).decrypt(token.encode()).decode() == text
    assert TokenDecryptor(keystore).decrypt(envelope) == text
    if isinstance(value, str) and len(value) > 3:
        assert value not in envelope


def test_encrypt_rotation_keeps_old_tokens_readable(tmp_path: Path) -> None:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    old = compiled(store, "user_id", "encrypt")("user-00001", None)
    store.rotate(encrypt_key_name("sample"))
    new = compiled(store, "user_id", "encrypt")("user-00001", None)
    assert split_envelope(old)[0] != split_envelope(new)[0]
    decryptor = TokenDecryptor(store)
    assert decryptor.decrypt(old) == decryptor.decrypt(new) == "user-00001"
    # A bare Fernet token (no envelope) is tried against every key of the name (MultiFernet).
    assert decryptor.decrypt(split_envelope(old)[1], fallback_key_name=encrypt_key_name("sample")) == "user-00001"
    rotated = decryptor.rotate(old, encrypt_key_name("sample"))
    assert split_envelope(rotated)[0] == split_envelope(new)[0] and decryptor.decrypt(rotated) == "user-00001"
    with pytest.raises(TokenError) as info:
        decryptor.decrypt(split_envelope(old)[0] + ":" + split_envelope(new)[1])
    assert "user-00001" not in str(info.value)
    with pytest.raises(TokenError, match="no key id"):
        decryptor.decrypt("garbage")


def test_encrypt_with_subject_keys_and_erasure(tmp_path: Path) -> None:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    encrypt = compiled(store, "email", "encrypt", key_scope="subject")
    tokens = {user: encrypt(f"{user}@example.org", user) for user in ("ann", "bob", "cid")}
    ids = {user: split_envelope(token)[0] for user, token in tokens.items()}
    assert len(set(ids.values())) == 3 and all(i and i.startswith("s") for i in ids.values())
    assert split_envelope(encrypt("again", "ann"))[0] == ids["ann"]
    store.erase_subject("sample", "bob")
    decryptor = TokenDecryptor(store)
    assert decryptor.decrypt(tokens["ann"]) == "ann@example.org"
    with pytest.raises(Exception, match="erased"):
        decryptor.decrypt(tokens["bob"])
    with pytest.raises(TreatmentError, match="has no subject value"):
        encrypt("x", None)


# --- mask ---


@given(value=scalars, length=st.none() | st.integers(8, 43), encoding=st.sampled_from(["hex", "base64url"]))
def test_mask_is_deterministic_with_its_alphabet_and_length(
    keystore: Keystore, value: Any, length: int | None, encoding: str
) -> None:
    mask = compiled(keystore, "email", "mask", encoding=encoding, length=length)
    first, second = mask(value, None), mask(value, "another subject")
    assert first == second
    alphabet = r"[0-9a-f]" if encoding == "hex" else r"[A-Za-z0-9_-]"
    full = 64 if encoding == "hex" else 43
    assert re.fullmatch(f"{alphabet}{{{length or full}}}", first)


@given(a=st.text(max_size=30), b=st.text(max_size=30))
def test_mask_separates_values_and_keys(keystore: Keystore, a: str, b: str) -> None:
    mask = compiled(keystore, "email", "mask")
    assert (mask(a, None) == mask(b, None)) == (a == b)
    other_key = compiled(keystore, "email", "mask", key="partner")
    assert other_key(a, None) != mask(a, None)


def test_mask_is_not_bare_sha256(keystore: Keystore) -> None:
    import hashlib

    card = "378282246310005"
    assert compiled(keystore, "email", "mask")(card, None) != hashlib.sha256(card.encode()).hexdigest()
    with pytest.raises(TreatmentError, match="cannot mask a dict"):
        compiled(keystore, "email", "mask")({"a": 1}, None)


# --- date_shift ---


@given(
    when=datetimes, other=datetimes, subject=subjects, field=st.sampled_from(DATE_FIELDS), max_days=st.integers(1, 400)
)
def test_date_shift_bounds_format_and_constancy(
    keystore: Keystore, when: datetime, other: datetime, subject: str, field: str, max_days: int
) -> None:
    shift = compiled(keystore, field, "date_shift", max_days=max_days)
    fmt = DOMAIN.fields[field].format
    assert fmt is not None
    out = shift(formatted(when, field), subject)
    parsed = datetime.strptime(out, fmt)  # format preserved
    original = datetime.strptime(formatted(when, field), fmt)
    delta = parsed - original
    assert delta.seconds == 0 and delta.microseconds == 0
    assert 1 <= abs(delta.days) <= max_days
    other_out = datetime.strptime(shift(formatted(other, field), subject), fmt)
    assert other_out - datetime.strptime(formatted(other, field), fmt) == delta  # same subject, same shift
    assert shift(formatted(when, field), subject) == out  # deterministic


def test_date_shift_differs_between_subjects(keystore: Keystore) -> None:
    shift = compiled(keystore, "day", "date_shift", max_days=365)
    outputs = {shift("15-06-2024", f"user-{n:05d}") for n in range(200)}
    assert len(outputs) > 100


@pytest.mark.parametrize("bad", ["2024-06-15", "31-02-2024", "15-06-2024 ", "", "\uff11\uff15-06-2024"])
def test_date_shift_rejects_unparseable_values_without_echoing_them(keystore: Keystore, bad: str) -> None:
    shift = compiled(keystore, "day", "date_shift")
    with pytest.raises(TreatmentError) as info:
        shift(bad, "user-1")
    assert info.value.field_path == "day" and "%d-%m-%Y" in info.value.reason
    assert (bad not in str(info.value)) or not bad.strip()
    with pytest.raises(TreatmentError, match="expected a date string"):
        shift(20240615, "user-1")
    with pytest.raises(TreatmentError, match="has no subject value"):
        shift("15-06-2024", None)


@given(when=datetimes, fmt=st.sampled_from(["%d-%m-%Y", "%m-%d-%Y", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]))
def test_date_codec_fast_path_matches_strptime(when: datetime, fmt: str) -> None:
    codec = DateCodec(fmt)
    text = when.strftime(fmt)
    assert codec.parse(text) == datetime.strptime(text, fmt)
    assert codec.format_date(codec.parse(text)) == datetime.strptime(text, fmt).strftime(fmt)


def test_date_codec_accepts_what_strptime_accepts() -> None:
    assert DateCodec("%d-%m-%Y").parse("1-3-2024") == datetime(2024, 3, 1)  # single digits: strptime path
    with pytest.raises(ValueError) as info:
        DateCodec("%d-%m-%Y").parse("32-01-2024")
    assert "32-01-2024" not in str(info.value)


# --- generalize ---


@given(when=datetimes, field=st.sampled_from(DATE_FIELDS))
def test_generalize_date_month(keystore: Keystore, when: datetime, field: str) -> None:
    to_month = compiled(keystore, field, "generalize", kind="date_month")
    fmt = DOMAIN.fields[field].format
    assert fmt is not None
    out = to_month(formatted(when, field), None)
    parsed = datetime.strptime(out, fmt)
    assert (parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute) == (when.year, when.month, 1, 0, 0)
    assert to_month(out, None) == out  # idempotent


@given(value=st.floats(-1e9, 1e9, allow_nan=False), size=st.sampled_from([0.1, 0.5, 1, 2.5, 10, 1000]))
def test_generalize_number_bucket_double(keystore: Keystore, value: float, size: float) -> None:
    bucket = compiled(keystore, "amount", "generalize", kind="number_bucket", size=size)
    low = bucket(value, None)
    assert low <= value < low + size + 1e-9 * max(1.0, abs(value))
    assert bucket(low, None) == low
    assert bucket_floor(low, size) == low


@given(value=st.integers(-(10**12), 10**12), size=st.integers(1, 10_000))
def test_generalize_number_bucket_int(keystore: Keystore, value: int, size: int) -> None:
    bucket = compiled(keystore, "count", "generalize", kind="number_bucket", size=size)
    low = bucket(value, None)
    assert isinstance(low, int) and low <= value < low + size and low % size == 0
    assert bucket(low, None) == low


@given(address=st.ip_addresses(v=4))
def test_generalize_ipv4(keystore: Keystore, address: ipaddress.IPv4Address) -> None:
    to_network = compiled(keystore, "ip", "generalize", kind="ipv4_24")
    out = to_network(str(address), None)
    assert out.split(".")[:3] == str(address).split(".")[:3] and out.endswith(".0")
    assert to_network(out, None) == out


@given(address=st.ip_addresses(v=6))
def test_generalize_ipv6(keystore: Keystore, address: ipaddress.IPv6Address) -> None:
    to_network = compiled(keystore, "ip", "generalize", kind="ipv6_48")
    out = to_network(str(address), None)
    assert ipaddress.IPv6Address(out) in ipaddress.IPv6Network(f"{address}/48", strict=False)
    assert int(ipaddress.IPv6Address(out)) & ((1 << 80) - 1) == 0
    assert to_network(out, None) == out


@given(postcode=st.text(alphabet=string.ascii_uppercase + string.digits + " ", max_size=10), length=st.integers(1, 5))
def test_generalize_postcode_prefix(keystore: Keystore, postcode: str, length: int) -> None:
    prefix = compiled(keystore, "postcode", "generalize", kind="postcode_prefix", length=length)
    out = prefix(postcode, None)
    assert postcode.strip().startswith(out) and len(out) <= length
    assert prefix(out, None) == out


def test_generalize_rejects_wrong_kinds_of_value(keystore: Keystore) -> None:
    with pytest.raises(TreatmentError, match="expected an IPv4 address"):
        compiled(keystore, "ip", "generalize", kind="ipv4_24")("2001:db8::1", None)
    with pytest.raises(TreatmentError, match="expected a number"):
        compiled(keystore, "count", "generalize", kind="number_bucket", size=5)(True, None)
    with pytest.raises(TreatmentError, match="expected a finite number"):
        compiled(keystore, "amount", "generalize", kind="number_bucket", size=5)(float("inf"), None)
    assert compiled(keystore, "day", "generalize", kind="date_month")("17-06-2024", None) == "01-06-2024"
    shifted = datetime(2024, 6, 17, 10, 5, tzinfo=UTC) + timedelta(0)
    assert compiled(keystore, "at", "generalize", kind="date_month")(shifted.strftime("%Y-%m-%dT%H:%M:%S%z"), None) == (
        "2024-06-01T00:00:00+0000"
    )
