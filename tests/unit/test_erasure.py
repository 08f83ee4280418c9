"""Crypto-shredding and key rotation on the real SQLite keystore: erase one of three subjects (unreadable by
every means the system has, the others intact), rotation keeps old tokens readable, re-wrap lets the old
master key go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.key_watch import SharedKeyWatcher
from pipelines.keys import KeyErasedError, KeystoreError, LocalKeystore, encrypt_key_name
from pipelines.keys.erasure import erase_subject, plan_erasure
from pipelines.keys.local import SUBJECT_INDEX_KEY, keys_table
from pipelines.keys.master import MasterKey, load_master_key
from pipelines.plan import compile_policy
from pipelines.transforms import TokenDecryptor, split_envelope
from pipelines.transforms.encrypt_modes import fpe_key_name

SUBJECTS = ["user-00001", "user-00002", "user-00003"]


def open_store(tmp_path: Path, master: str) -> LocalKeystore:
    return LocalKeystore.open(Settings(data_dir=tmp_path, master_key=master))


def channel_plan(keystore: LocalKeystore, scope: str = "subject") -> Any:
    domain = load_registry().get("channel")
    rules: dict[str, Any] = {name: {"treatment": "keep"} for name in domain.fields}
    rules["user_id"] = {"treatment": "encrypt", "params": {"key_scope": scope}}
    return compile_policy(Policy(domain="channel", version=1, status="published", rules=rules), domain, keystore)


def every_fernet_the_system_has(keystore: LocalKeystore) -> MultiFernet:
    """All Fernet keys the keystore can still unwrap, shared and per subject."""
    fernets = []
    for info in keystore.list_keys(include_subject_keys=True):
        if info.kind == "fernet" and info.erased is None:
            fernets.append(Fernet(keystore.by_id(info.key_id).material))
    return MultiFernet(fernets)


def store_bytes(tmp_path: Path) -> bytes:
    files = sorted((tmp_path / "keys").glob("keystore.db*"))
    return b"".join(path.read_bytes() for path in files)


def test_erasing_one_of_three_subjects_makes_only_its_values_unreadable(tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    keystore = open_store(tmp_path, master)
    plan = channel_plan(keystore)
    tokens = {s: [plan.apply({"user_id": s, "channel_name": "HBO"})["user_id"] for _ in range(3)] for s in SUBJECTS}
    victim, others = SUBJECTS[1], [SUBJECTS[0], SUBJECTS[2]]
    victim_id = split_envelope(tokens[victim][0])[0]
    assert victim_id is not None and victim_id.startswith("s")
    with keystore._engine.connect() as conn:
        wrapped = conn.execute(keys_table.select().where(keys_table.c.key_id == victim_id)).one().wrapped
    material = keystore.by_id(victim_id).material

    worker = open_store(tmp_path, master)  # another process's connection stays open (no checkpoint on close)
    worker.subject_key("channel", SUBJECTS[0])
    found = plan_erasure(keystore, victim, keystore.subject_scopes())
    assert [s.scope for s in found.scopes] == ["channel"] and found.active_count == 1
    details = found.audit_details("ticket 42")
    assert victim not in repr(details) and details["active_key_ids"] == {"channel": [victim_id]}
    erase_subject(keystore, victim, found)
    assert found.erased_now == {"channel": [victim_id]} and found.scrubbed is True
    # The destroyed key is gone from the database files too (secure_delete + WAL checkpoint).
    raw = store_bytes(tmp_path)
    assert wrapped not in raw and material not in raw
    keystore.close()
    worker.close()

    keystore = open_store(tmp_path, master)  # a fresh process's view: nothing cached
    decryptor, everything = TokenDecryptor(keystore), every_fernet_the_system_has(keystore)
    for token in tokens[victim]:
        with pytest.raises(KeyErasedError):  # reidentify's path
            decryptor.decrypt(token)
        with pytest.raises(InvalidToken):  # every key the keystore still holds, tried together
            everything.decrypt(split_envelope(token)[1].encode())
    with pytest.raises(KeyErasedError):
        keystore.by_id(victim_id)
    for subject in others:
        assert all(decryptor.decrypt(t) == subject for t in tokens[subject])
        assert all(everything.decrypt(split_envelope(t)[1].encode()).decode() == subject for t in tokens[subject])
    # A new event of the erased subject gets a fresh key, readable as usual.
    fresh = channel_plan(keystore).apply({"user_id": victim})["user_id"]
    assert split_envelope(fresh)[0] != victim_id and decryptor.decrypt(fresh) == victim
    again = plan_erasure(keystore, victim, ["channel"])
    assert [k.status for k in again.scopes[0].keys] == ["erased", "active"]
    keystore.close()


def test_unknown_subject_and_scopes(tmp_path: Path) -> None:
    keystore = open_store(tmp_path, Fernet.generate_key().decode())
    assert keystore.subject_scopes() == []
    keystore.subject_key("movie", "user-1")
    keystore.subject_key("clickstream_1a2b", "user-1")
    assert keystore.subject_scopes() == ["clickstream_1a2b", "movie"]
    unknown = plan_erasure(keystore, "nobody", keystore.subject_scopes())
    assert not unknown.known and unknown.active_count == 0
    assert erase_subject(keystore, "nobody", unknown).erased_now == {}
    both = erase_subject(keystore, "user-1", plan_erasure(keystore, "user-1", keystore.subject_scopes()))
    assert sorted(both.erased_now) == ["clickstream_1a2b", "movie"]
    assert keystore.subject_ref("movie", "user-1") != keystore.subject_ref("movie", "user-2")
    assert keystore.subject_key_counts() == (0, 2)
    keystore.close()


def test_rotation_keeps_old_tokens_readable(tmp_path: Path) -> None:
    keystore = open_store(tmp_path, Fernet.generate_key().decode())
    before = channel_plan(keystore, "shared").apply({"user_id": "user-7"})["user_id"]
    old = keystore.current(encrypt_key_name("channel"))
    new = keystore.rotate(encrypt_key_name("channel"))
    after = channel_plan(keystore, "shared").apply({"user_id": "user-7"})["user_id"]
    assert split_envelope(before)[0] == old.key_id and split_envelope(after)[0] == new.key_id != old.key_id
    decryptor = TokenDecryptor(keystore)
    assert decryptor.decrypt(before) == decryptor.decrypt(after) == "user-7"
    # A bare Fernet token (no key id) is still found among the generations (MultiFernet).
    assert decryptor.decrypt(split_envelope(before)[1], encrypt_key_name("channel")) == "user-7"
    keystore.subject_key("channel", "user-7")
    with pytest.raises(KeystoreError, match="cannot be rotated"):
        keystore.rotate(SUBJECT_INDEX_KEY)
    keystore.close()


def test_rewrap_moves_every_key_to_the_new_master_key(tmp_path: Path) -> None:
    old_master, new_master = Fernet.generate_key(), Fernet.generate_key()
    keystore = open_store(tmp_path, old_master.decode())
    plan = channel_plan(keystore)
    tokens = {s: plan.apply({"user_id": s})["user_id"] for s in SUBJECTS}
    shared = channel_plan(keystore, "shared").apply({"user_id": "user-9"})["user_id"]
    keystore.erase_subject("channel", SUBJECTS[0])
    keystore.close()

    new_only = Settings(data_dir=tmp_path, master_key=new_master.decode())
    with pytest.raises(KeystoreError, match="which DEID_MASTER_KEY does not hold") as refused:
        LocalKeystore.open(new_only).rewrap()
    assert old_master.decode() not in str(refused.value) and new_master.decode() not in str(refused.value)

    both: MasterKey = load_master_key(new_only).with_older([old_master], "the old key")
    keystore = LocalKeystore.open(new_only, both)
    report = keystore.rewrap()
    old_fingerprint = load_master_key(Settings(master_key=old_master.decode())).fingerprint
    assert report.rewrapped >= 4 and report.rewrapped_from == {old_fingerprint: report.rewrapped}
    assert report.erased == 1 and report.already_current == 0
    assert keystore.rewrap().rewrapped == 0  # idempotent
    keystore.close()

    keystore = LocalKeystore.open(new_only)  # the old master key is gone
    decryptor = TokenDecryptor(keystore)
    assert decryptor.decrypt(tokens[SUBJECTS[1]]) == SUBJECTS[1] and decryptor.decrypt(shared) == "user-9"
    with pytest.raises(KeyErasedError):
        decryptor.decrypt(tokens[SUBJECTS[0]])
    assert keystore.rewrap().already_current == report.rewrapped
    keystore.close()


def test_a_running_worker_notices_a_rotated_key(tmp_path: Path) -> None:
    keystore = open_store(tmp_path, Fernet.generate_key().decode())
    channel_plan(keystore, "shared")  # creates encrypt.channel
    now = [0.0]
    watcher = SharedKeyWatcher(keystore, "channel", interval=60, clock=lambda: now[0])
    first = watcher.seen
    new = keystore.rotate(encrypt_key_name("channel"))
    assert watcher.rotated() is False  # not yet time to look
    now[0] = 61.0
    assert watcher.rotated() is True and watcher.seen == new.key_id != first
    now[0] = 200.0
    assert watcher.rotated() is False  # once per rotation
    keystore.ensure(fpe_key_name("channel"), "secret")
    now[0] = 261.0
    assert watcher.rotated() is False  # a key created (the first fpe rule) is not a rotation
    keystore.rotate(fpe_key_name("channel"))
    now[0] = 322.0
    assert watcher.rotated() is True and watcher.seen == new.key_id  # the fpe key rotated, encrypt's did not
    keystore.close()
    now[0] = 400.0
    broken = SharedKeyWatcher(keystore, "nope", interval=1, clock=lambda: now[0])
    assert broken.seen is None and broken.rotated() is False  # no key yet: nothing to switch from


def test_a_failing_statement_never_shows_key_material(tmp_path: Path) -> None:
    keystore = open_store(tmp_path, Fernet.generate_key().decode())
    keystore.subject_key("channel", "user-1")
    with keystore._engine.begin() as conn:  # every insert of a new key now fails inside the database
        conn.exec_driver_sql("CREATE TABLE gone (x)")
        conn.exec_driver_sql("CREATE TRIGGER broken BEFORE INSERT ON deid_keys BEGIN INSERT INTO gone VALUES (1); END")
        conn.exec_driver_sql("DROP TABLE gone")
    with pytest.raises(Exception) as info:
        keystore.subject_keys("channel", ["user-2"])
    assert "INSERT INTO deid_keys" in str(info.value) and "parameters hidden" in str(info.value)
    assert "gAAAAA" not in str(info.value)
    keystore.close()
