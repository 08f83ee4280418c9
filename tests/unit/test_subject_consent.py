"""Subject-level consent: an opt-out caps the subject's later rows until an explicit opt-in; the cap
lives in the keystore's database (survives a restart, shared by workers), keyed by a keyed hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from deid.domains import build_registry, load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.consent import ConsentLedger, consent_table
from pipelines.keys import LocalKeystore
from pipelines.plan import compile_policy

POLICY = Policy.load(Path("pipelines/policies/profile.yaml"))
REDACTED = "REDACTED_CONTENT"


def _row(ssn: str, consent: bool | None) -> dict:
    return {"name": "A Person", "dob": "1980-04-05", "gender": "female", "ssn_no": ssn, "data_share_consent": consent}


@pytest.fixture()
def keystore(tmp_path: Path) -> LocalKeystore:
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    yield store
    store.close()


def _batch(plan, rows: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    plan.prefetch_subject_keys(rows)  # what the worker does before each batch
    return [plan.apply(dict(r)) for r in rows]


def test_an_opt_out_is_sticky_across_batches_and_restarts(keystore: LocalKeystore) -> None:
    domain = load_registry().get("profile")
    assert domain.consent is not None and domain.consent.scope == "subject"
    plan = compile_policy(POLICY, domain, keystore)
    [first] = _batch(plan, [_row("123-45-6789", True)])
    assert first["ssn_no"] == "123-45-6789"  # consented, never opted out
    opted_out, *later = _batch(plan, [_row("123-45-6789", False), _row("123-45-6789", True)])
    assert opted_out["ssn_no"] == REDACTED and later[0]["ssn_no"] == REDACTED
    assert later[0]["dob"] == REDACTED and later[0]["data_redacted"] is True
    [after] = _batch(plan, [_row("123-45-6789", True), _row("999-00-1111", True)])[:1]
    assert after["ssn_no"] == REDACTED
    # A new plan (a restarted or another worker) reads the cap from the keystore's database.
    restarted = compile_policy(POLICY, domain, keystore)
    assert restarted.apply(_row("123-45-6789", True))["ssn_no"] == REDACTED  # not prefetched: loaded, fail closed
    assert restarted.apply(_row("999-00-1111", True))["ssn_no"] == "999-00-1111"
    with keystore.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(consent_table))]
    assert stored and all("123-45-6789" not in str(r) for r in stored)  # a keyed hash, never the id


def test_withdraw_without_an_event_and_grant_lifts_the_cap(keystore: LocalKeystore) -> None:
    domain = load_registry().get("profile")
    ledger = ConsentLedger.of(keystore, domain.name)
    ledger.withdraw("555-55-5555")
    plan = compile_policy(POLICY, domain, keystore)
    assert _batch(plan, [_row("555-55-5555", True)])[0]["ssn_no"] == REDACTED
    _batch(plan, [_row("777-77-7777", False)])
    ledger.grant("777-77-7777")  # an explicit opt-in, newer than the opt-out
    assert _batch(plan, [_row("777-77-7777", True)])[0]["ssn_no"] == "777-77-7777"
    assert _batch(plan, [_row("777-77-7777", None)])[0]["ssn_no"] == REDACTED  # a row without consent: its own level
    assert _batch(plan, [_row("777-77-7777", True)])[0]["ssn_no"] == "777-77-7777"  # and no new cap


def test_row_scope_stays_per_row(keystore: LocalKeystore) -> None:
    document = load_registry().get("profile").model_dump()
    document.pop("name")
    document["consent"]["scope"] = "row"
    domain = build_registry({"profile": document}).get("profile")
    plan = compile_policy(POLICY, domain, keystore)
    out = _batch(plan, [_row("123-45-6789", False), _row("123-45-6789", True)])
    assert [o["ssn_no"] for o in out] == [REDACTED, "123-45-6789"]
