"""encrypt modes beside Fernet: deterministic AES-SIV and FF1 format-preserving, with keys from the
keystore; reversible by the token decryptor and the re-identifier's schema reading, rotatable."""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from hypothesis import given, settings
from hypothesis import strategies as st

from deid.domains import Domain, parse_domains
from deid.policy import Policy, PolicyError, check_policy, make_rule
from deid.settings import Settings
from pipelines.avro import anonymised_schema
from pipelines.keys import Keystore, LocalKeystore, encrypt_key_name
from pipelines.reidentify import FpeField, encryption_modes
from pipelines.transforms import FieldContext, TokenDecryptor, TreatmentError, default_registry, split_envelope
from pipelines.transforms.encrypt_modes import current_fpe_key_id, fpe_decryptor, fpe_key_name, siv_for

DOMAIN: Domain = parse_domains(
    {
        "cards": {
            "subject_field": "user_id",
            "consent": {"field": "ok", "kind": "boolean"},
            "fields": {
                "user_id": {"type": "string"},
                "card": {"type": "string"},
                "code": {"type": "string"},
                "amount": {"type": "long"},
                "ok": {"type": "boolean"},
            },
        }
    },
    "test",
)["cards"]
REGISTRY = default_registry()


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystore]:
    store = LocalKeystore.open(
        Settings(data_dir=tmp_path_factory.mktemp("keys"), master_key=Fernet.generate_key().decode())
    )
    yield store
    store.close()


def compiled(keystore: Keystore, field: str, **params: Any) -> Any:
    rule = make_rule("encrypt", **params)
    context = FieldContext(field, DOMAIN.fields[field], DOMAIN, keystore)
    return REGISTRY.get("encrypt").compile(rule.params, context)


@settings(deadline=None, max_examples=40)
@given(value=st.text(max_size=60))
def test_deterministic_is_stable_reversible_and_standard_aes_siv(value: str) -> None:
    store = _STORE
    encrypt = compiled(store, "user_id", mode="deterministic")
    token = encrypt(value, None)
    assert token == encrypt(value, None)  # same value, same token: joins work
    key_id, body = split_envelope(token)
    assert key_id is not None and key_id.startswith("k") and body.startswith("siv.")
    assert TokenDecryptor(store).decrypt(token) == value
    # The token is plain RFC 5297 AES-SIV under an HKDF-derived key.
    assert isinstance(siv_for(store.by_id(key_id).material), AESSIV)


def test_deterministic_differs_per_value_and_rotates(tmp_path: Path) -> None:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    encrypt = compiled(store, "user_id", mode="deterministic")
    old = encrypt("user-00001", None)
    assert old != encrypt("user-00002", None)
    store.rotate(encrypt_key_name("cards"))
    new = compiled(store, "user_id", mode="deterministic")("user-00001", None)
    assert split_envelope(new)[0] != split_envelope(old)[0]
    decryptor = TokenDecryptor(store)
    assert decryptor.decrypt(old) == decryptor.decrypt(new) == "user-00001"
    assert decryptor.rotate(old, encrypt_key_name("cards")) == new  # re-sealed under the current key
    tampered = old[:-2] + ("AA" if not old.endswith("AA") else "BB")
    with pytest.raises(Exception, match="does not decrypt") as info:
        decryptor.decrypt(tampered)
    assert "user-00001" not in str(info.value)


def test_deterministic_per_subject_keys_and_erasure(tmp_path: Path) -> None:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    encrypt = compiled(store, "card", mode="deterministic", key_scope="subject")
    ann, bob = encrypt("371449635398431", "ann"), encrypt("371449635398431", "bob")
    assert ann != bob and ann == encrypt("371449635398431", "ann")
    assert split_envelope(ann)[0].startswith("s")
    store.erase_subject("cards", "bob")
    decryptor = TokenDecryptor(store)
    assert decryptor.decrypt(ann) == "371449635398431"
    with pytest.raises(Exception, match="erased"):
        decryptor.decrypt(bob)
    with pytest.raises(TreatmentError, match="no subject value"):
        encrypt("x", None)


@settings(deadline=None, max_examples=60)
@given(digits=st.text(alphabet=string.digits, min_size=6, max_size=19))
def test_fpe_keeps_digits_and_length_and_reverses(digits: str) -> None:
    encrypt = compiled(_STORE, "card", mode="fpe")
    token = encrypt(digits, None)
    assert len(token) == len(digits) and token.isdigit()
    assert token == encrypt(digits, None)
    assert fpe_decryptor(_STORE, "cards", "digits")(token) == digits


def test_fpe_keeps_separators_in_place_and_alphanumerics() -> None:
    card = compiled(_STORE, "card", mode="fpe")("3714-496353-98431", None)
    assert [i for i, c in enumerate(card) if c == "-"] == [4, 11]
    assert len(card.replace("-", "")) == 15 and card.replace("-", "").isdigit()
    assert card != "3714-496353-98431"
    code = compiled(_STORE, "code", mode="fpe", alphabet="alphanumeric")("AbC123xyz", None)
    assert len(code) == 9 and code.isalnum()
    assert fpe_decryptor(_STORE, "cards", "alphanumeric")(code) == "AbC123xyz"
    assert _STORE.current(fpe_key_name("cards")).info.kind == "secret"


def test_fpe_refuses_values_it_cannot_take_without_echoing_them() -> None:
    encrypt = compiled(_STORE, "card", mode="fpe")
    with pytest.raises(TreatmentError, match="at least 6") as info:
        encrypt("1234", None)
    assert "1234" not in str(info.value).replace("at least 6", "")


def test_modes_in_the_policy_and_the_schema() -> None:
    with pytest.raises(PolicyError, match="alphabet: applies only to mode fpe"):
        Policy.from_document(
            {"domain": "cards", "rules": {"card": {"treatment": "encrypt", "params": {"alphabet": "digits"}}}}
        )
    with pytest.raises(PolicyError, match="use mode deterministic for per-subject"):
        Policy.from_document(
            {
                "domain": "cards",
                "rules": {"card": {"treatment": "encrypt", "params": {"mode": "fpe", "key_scope": "subject"}}},
            }
        )
    consent_fpe = Policy.from_document(
        {
            "domain": "cards",
            "rules": {
                "card": {
                    "with_consent": {"treatment": "keep", "exemption": {"reason": "consented"}},
                    "without_consent": {"treatment": "encrypt", "params": {"mode": "fpe"}},
                }
            },
        }
    )
    with pytest.raises(PolicyError, match="fpe cannot be a consent branch"):
        check_policy(consent_fpe, DOMAIN)
    policy = Policy.from_document(
        {
            "domain": "cards",
            "rules": {
                "user_id": {"treatment": "encrypt", "params": {"mode": "deterministic"}},
                "card": {"treatment": "encrypt", "params": {"mode": "fpe"}},
                "code": {"treatment": "encrypt", "params": {"mode": "fpe", "alphabet": "alphanumeric"}},
                "amount": {"treatment": "encrypt"},
            },
        }
    )
    modes = encryption_modes(anonymised_schema(DOMAIN, policy))
    assert modes == {
        "user_id": None,
        "card": FpeField("digits", None),
        "code": FpeField("alphanumeric", None),
        "amount": None,
    }
    key_id = "k" + "0123456789abcdef0123"
    named = anonymised_schema(DOMAIN, policy, fpe_key_id=key_id)
    docs = {f["name"]: f.get("doc") for f in named["fields"]}
    assert docs["card"] == f"deid: encrypt(fpe-digits, key {key_id})" and docs["amount"] == "deid: encrypt"
    assert encryption_modes(named)["code"] == FpeField("alphanumeric", key_id)


def test_fpe_tokens_stay_readable_after_rotation_by_the_key_their_schema_names(tmp_path: Path) -> None:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    before = compiled(store, "card", mode="fpe")("371449635398431", None)
    old_id = current_fpe_key_id(store, "cards")
    new_id = store.rotate(fpe_key_name("cards")).key_id
    after = compiled(store, "card", mode="fpe")("371449635398431", None)
    assert old_id is not None and new_id == current_fpe_key_id(store, "cards") != old_id and before != after
    assert fpe_decryptor(store, "cards", "digits", old_id)(before) == "371449635398431"
    assert fpe_decryptor(store, "cards", "digits", new_id)(after) == "371449635398431"
    assert fpe_decryptor(store, "cards", "digits")(after) == "371449635398431"  # no id named: the current key
    assert fpe_decryptor(store, "cards", "digits")(before) != "371449635398431"  # why schemas name the key
    assert current_fpe_key_id(store, "other") is None
    store.close()


_STORE: Keystore


@pytest.fixture(autouse=True)
def _module_store(keystore: Keystore) -> None:
    global _STORE
    _STORE = keystore
