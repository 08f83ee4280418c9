"""The keystore on PostgreSQL (DEID_KEYSTORE_URL): workers in separate processes creating the same subjects'
keys at once end with one key each; erasure, scopes and re-wrap behave as on SQLite; only wrapped keys are
stored."""

from __future__ import annotations

import multiprocessing
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from deid.settings import Settings, SettingsError, load_settings
from pipelines.keys import KeyErasedError, LocalKeystore, open_keystore
from pipelines.keys.erasure import erase_subject, plan_erasure
from pipelines.keys.local import SUBJECT_INDEX_KEY
from pipelines.keys.master import load_master_key
from pipelines.transforms import TokenDecryptor
from tests.catalog_support import PostgresCluster
from tests.integration.keystore_workers import create_subject_keys


@pytest.fixture
def keystore_url(postgres: PostgresCluster) -> str:
    return postgres.create_database(f"keys_{uuid.uuid4().hex[:8]}")


def pg_settings(url: str, master: str, **extra: Any) -> Settings:
    return Settings(keystore_url=url.replace("postgresql+psycopg://", "postgresql://"), master_key=master, **extra)


def test_concurrent_processes_end_with_one_key_per_subject(keystore_url: str, tmp_path: Any) -> None:
    master = Fernet.generate_key().decode()
    settings = {"keystore_url": keystore_url, "master_key": master}
    subjects = [f"user-{n}" for n in range(40)]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=create_subject_keys, args=(settings, "clickstream", subjects, bulk, barrier, results))
        for bulk in (True, False, True, False)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert all(answer == answers[0] for answer in answers) and len(set(answers[0].values())) == 40
    keystore = open_keystore(pg_settings(keystore_url, master, data_dir=tmp_path))
    assert keystore.subject_key_counts() == (40, 0)
    assert [k.name for k in keystore.list_keys()] == [SUBJECT_INDEX_KEY]  # one subject index, whoever won
    assert not (tmp_path / "keys").exists()  # the URL, not the local SQLite file
    keystore.close()


def test_erase_and_rewrap_on_postgresql(keystore_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keystore = open_keystore(pg_settings(keystore_url, old))
    keys = {s: keystore.subject_key("movie", s) for s in ("a", "b", "c")}
    tokens = {s: f"{k.key_id}:{Fernet(k.material).encrypt(s.encode()).decode()}" for s, k in keys.items()}
    plan = erase_subject(keystore, "b", plan_erasure(keystore, "b", keystore.subject_scopes()))
    assert plan.erased_now == {"movie": [keys["b"].key_id]}
    assert keystore.scrub() is True  # VACUUM of the keys table (outside a transaction) works
    keystore.close()
    engine = create_engine(keystore_url)
    with engine.connect() as conn:
        stored = b"".join(bytes(row[0] or b"") for row in conn.execute(text("select wrapped from deid_keys")))
        nulls = conn.execute(text("select count(*) from deid_keys where wrapped is null")).scalar_one()
    engine.dispose()
    assert nulls == 1 and all(k.material not in stored for k in keys.values())  # wrapped at rest only

    settings = pg_settings(keystore_url, new)
    keystore = LocalKeystore.open(settings, load_master_key(settings).with_older([old.encode()], "old"))
    assert keystore.rewrap().rewrapped == 3  # the subject index and the two live subject keys (erased: nothing)
    keystore.close()
    keystore = open_keystore(settings)
    decryptor = TokenDecryptor(keystore)
    assert decryptor.decrypt(tokens["a"]) == "a" and decryptor.decrypt(tokens["c"]) == "c"
    with pytest.raises(KeyErasedError):
        decryptor.decrypt(tokens["b"])
    keystore.close()


def test_keystore_url_setting_is_checked_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KEYSTORE_URL", "mysql://user:hunter2@host/db")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "DEID_KEYSTORE_URL" in str(info.value) and "hunter2" not in str(info.value)
