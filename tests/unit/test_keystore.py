"""The keystore: master key rules, keys wrapped at rest, ids, rotation, per-subject keys and erasure."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from deid.settings import Settings, SettingsError, load_settings
from pipelines.keys import (
    DATE_SHIFT_KEY,
    KeyErasedError,
    KeyNotFoundError,
    KeystoreError,
    LocalKeystore,
    MasterKeyError,
    encrypt_key_name,
    init_keys,
    mask_key_name,
)
from pipelines.keys.master import load_master_key, write_new_master_key


def settings_for(data_dir: Path, master: bytes | str) -> Settings:
    return Settings(data_dir=data_dir, master_key=master if isinstance(master, str) else master.decode())


def test_no_master_key_is_a_clear_error_naming_both_settings(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError) as info:
        LocalKeystore.open(Settings(data_dir=tmp_path))
    assert "DEID_MASTER_KEY" in str(info.value) and "DEID_MASTER_KEY_FILE" in str(info.value)
    assert info.value.exit_code == 2
    assert not (tmp_path / "keys").exists()


def test_bad_master_key_setting_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_MASTER_KEY", "not-a-key-but-secret-XYZ")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "DEID_MASTER_KEY" in str(info.value) and "Fernet key" in str(info.value)
    assert "secret-XYZ" not in str(info.value)


def test_master_key_from_environment_and_repr_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key()
    monkeypatch.setenv("DEID_MASTER_KEY", key.decode())
    settings = load_settings()
    master = load_master_key(settings)
    assert key.decode() not in repr(settings) and key.decode() not in repr(master)
    assert master.unwrap(master.wrap(b"data")) == b"data"


def test_master_key_file_rules(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "master.key"
    fingerprint = write_new_master_key(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    master = load_master_key(Settings(master_key_file=key_file))
    assert master.fingerprint == fingerprint and str(key_file) in master.source
    with pytest.raises(MasterKeyError, match="already exists"):
        write_new_master_key(key_file)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(MasterKeyError, match="inside the git working tree"):
        write_new_master_key(tmp_path / "repo" / "master.key")
    assert not (tmp_path / "repo" / "master.key").exists()
    with pytest.raises(MasterKeyError, match=r"DEID_MASTER_KEY_FILE: .*does not exist"):
        load_master_key(Settings(master_key_file=tmp_path / "nope.key"))
    garbage = tmp_path / "garbage.key"
    garbage.write_text("secret-but-wrong\n")
    with pytest.raises(MasterKeyError) as info:
        load_master_key(Settings(master_key_file=garbage))
    assert "is not a Fernet key" in str(info.value) and "secret-but-wrong" not in str(info.value)
    with pytest.raises(MasterKeyError, match="set only one"):
        load_master_key(Settings(master_key_file=key_file, master_key=Fernet.generate_key().decode()))


def test_master_key_file_inside_a_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    inside = tmp_path / "repo" / "config" / "master.key"
    inside.parent.mkdir()
    inside.write_bytes(Fernet.generate_key())
    with pytest.raises(MasterKeyError, match="inside the git working tree"):
        load_master_key(Settings(master_key_file=inside))


def test_keys_are_wrapped_at_rest_and_private(tmp_path: Path) -> None:
    keystore = LocalKeystore.open(settings_for(tmp_path, Fernet.generate_key()))
    created = init_keys(keystore, ["channel", "movie"])
    assert [(k.name, new) for k, new in created] == [
        (DATE_SHIFT_KEY, True),
        (mask_key_name("default"), True),
        (encrypt_key_name("channel"), True),
        (encrypt_key_name("movie"), True),
    ]
    assert all(new is False for _, new in init_keys(keystore, ["channel", "movie"]))  # idempotent
    material = keystore.current(encrypt_key_name("channel")).material
    secret = keystore.current(DATE_SHIFT_KEY).material
    keystore.close()
    db = tmp_path / "keys" / "keystore.db"
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("keystore.db-*"))
    assert material not in raw and secret not in raw and secret.hex().encode() not in raw
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_key_reprs_and_errors_hold_no_material(tmp_path: Path) -> None:
    keystore = LocalKeystore.open(settings_for(tmp_path, Fernet.generate_key()))
    keystore.ensure("mask.default", "secret")
    key = keystore.current("mask.default")
    assert key.material.hex() not in repr(key) and str(key.material) not in repr(key)
    assert key.key_id in repr(key)
    with pytest.raises(KeyNotFoundError, match=r"no key named 'encrypt\.nope'; run `deid keys init`"):
        keystore.current("encrypt.nope")
    with pytest.raises(KeyNotFoundError, match="unknown key id 'kdeadbeef'"):
        keystore.by_id("kdeadbeef")


def test_wrong_master_key_names_fingerprints_not_keys(tmp_path: Path) -> None:
    first, second = Fernet.generate_key(), Fernet.generate_key()
    keystore = LocalKeystore.open(settings_for(tmp_path, first))
    info = keystore.ensure("encrypt.channel", "fernet")
    keystore.close()
    other = LocalKeystore.open(settings_for(tmp_path, second))
    with pytest.raises(KeystoreError) as error:
        other.by_id(info.key_id)
    message = str(error.value)
    assert "wrapped by master key" in message and first.decode() not in message and second.decode() not in message
    # A new master key first, the old one second: old keys still unwrap (master rotation).
    both = LocalKeystore.open(settings_for(tmp_path, f"{second.decode()},{first.decode()}"))
    assert both.by_id(info.key_id).key_id == info.key_id


def test_rotation_keeps_old_keys_readable(tmp_path: Path) -> None:
    keystore = LocalKeystore.open(settings_for(tmp_path, Fernet.generate_key()))
    first = keystore.ensure("encrypt.channel", "fernet")
    second = keystore.rotate("encrypt.channel")
    assert second.generation == first.generation + 1 and second.key_id != first.key_id
    assert keystore.current("encrypt.channel").key_id == second.key_id
    assert [k.key_id for k in keystore.keys_named("encrypt.channel")] == [second.key_id, first.key_id]
    assert keystore.by_id(first.key_id).material != keystore.by_id(second.key_id).material
    assert [k.generation for k in keystore.list_keys()] == [1, 2]
    with pytest.raises(KeyNotFoundError):
        keystore.rotate("encrypt.unknown")


def test_subject_keys_created_on_first_use_and_erasable(tmp_path: Path) -> None:
    keystore = LocalKeystore.open(settings_for(tmp_path, Fernet.generate_key()))
    alice = keystore.subject_key("clickstream", "user-1")
    assert keystore.subject_key("clickstream", "user-1").key_id == alice.key_id
    bob = keystore.subject_key("clickstream", "user-2")
    assert bob.key_id != alice.key_id and alice.key_id.startswith("s")
    assert keystore.subject_key("movie", "user-1").key_id != alice.key_id  # scoped per domain
    assert keystore.erase_subject("clickstream", "user-1") == [alice.key_id]
    with pytest.raises(KeyErasedError, match="erased"):
        keystore.by_id(alice.key_id)
    assert keystore.by_id(bob.key_id).material == bob.material
    fresh = keystore.subject_key("clickstream", "user-1")
    assert fresh.key_id != alice.key_id and fresh.material != alice.material
    assert keystore.subject_key_counts() == (3, 1)
    assert keystore.erase_subject("clickstream", "never-seen") == []
    # Subject ids are not stored in clear.
    keystore.close()
    with sqlite3.connect(tmp_path / "keys" / "keystore.db") as conn:
        names = " ".join(row[0] for row in conn.execute("select name from deid_keys"))
    assert "user-1" not in names and "user-2" not in names


def _create_subject_keys(data_dir: str, master: str, barrier: Any, results: Any) -> None:
    keystore = LocalKeystore.open(settings_for(Path(data_dir), master))
    barrier.wait()  # all workers ask for the same new subjects at the same moment
    results.put([keystore.subject_key("clickstream", f"user-{n}").key_id for n in range(10)])
    keystore.close()


def test_concurrent_workers_creating_one_subjects_key_end_with_one_key(tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    LocalKeystore.open(settings_for(tmp_path, master)).ensure("keystore.subject_index", "secret")
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_create_subject_keys, args=(str(tmp_path), master, barrier, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    ids = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert all(row == ids[0] for row in ids) and len(set(ids[0])) == 10
    keystore = LocalKeystore.open(settings_for(tmp_path, master))
    assert keystore.subject_key_counts() == (10, 0)


def test_a_lost_creation_race_returns_the_winners_key(tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    first = LocalKeystore.open(settings_for(tmp_path, master))
    second = LocalKeystore.open(settings_for(tmp_path, master))
    winner = first.ensure("mask.default", "secret")
    assert second._insert("mask.default", "secret", winner.generation) is False  # the loser's insert
    assert second.ensure("mask.default", "secret").key_id == winner.key_id
