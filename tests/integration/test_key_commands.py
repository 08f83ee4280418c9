"""`deid subject erase`, `deid keys rotate` and `deid keys rewrap` as a user runs them, audited in a real
catalog (both store backends): nothing changes when the catalog cannot audit, never a subject id or key
material in the output or the audit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from deid.settings import Settings
from deid.stack.process import free_port
from pipelines.keys import KeyErasedError, LocalKeystore
from pipelines.transforms import TokenDecryptor
from pipelines.transforms.encrypt import ENVELOPE_SEPARATOR
from tests.catalog_support import CatalogServer
from tests.conftest import deid_env, run_deid

SUBJECTS = ["user-10001", "user-10002", "user-10003"]


def subject_tokens(settings: Settings) -> dict[str, str]:
    """One token per subject under its own key, as `encrypt` with key_scope subject writes them."""
    keystore = LocalKeystore.open(settings)
    tokens = {}
    for subject in SUBJECTS:
        key = keystore.subject_key("channel", subject)
        tokens[subject] = key.key_id + ENVELOPE_SEPARATOR + Fernet(key.material).encrypt(subject.encode()).decode()
    keystore.close()
    return tokens


def audit_events(catalog: CatalogServer, since: int, action: str) -> list[dict[str, Any]]:
    return catalog.client("admin").audit_feed(since=since, action=action, limit=1000)["events"]


def test_subject_erase_is_audited_first_and_shreds_one_subject(catalog: CatalogServer, tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, master_key=master)
    tokens = subject_tokens(settings)
    victim = SUBJECTS[0]
    user, password = catalog.credentials("steward")
    env = deid_env(
        DEID_DATA_DIR=str(tmp_path),
        DEID_MASTER_KEY=master,
        DEID_CATALOG_URL=catalog.url,
        DEID_CATALOG_USER=user,
        DEID_CATALOG_PASSWORD=password,
    )
    start = catalog.client("admin").audit_feed(since=0, limit=10000)["next"]
    erase = ("subject", "erase", victim, "--reason", "GDPR request T-1")

    down = run_deid(*erase, env={**env, "DEID_CATALOG_URL": f"http://127.0.0.1:{free_port()}"})
    assert down.returncode == 1 and "unreachable" in down.stderr and "nothing was changed" in down.stderr
    viewer, viewer_password = catalog.credentials("viewer")
    refused = run_deid(*erase, env={**env, "DEID_CATALOG_USER": viewer, "DEID_CATALOG_PASSWORD": viewer_password})
    assert refused.returncode == 1 and "needs a steward or admin" in refused.stderr
    dry = run_deid(*erase, "--dry-run", env=env)
    assert dry.returncode == 0 and "would erase" in dry.stdout
    keystore = LocalKeystore.open(settings)
    assert TokenDecryptor(keystore).decrypt(tokens[victim]) == victim  # nothing erased so far
    keystore.close()

    done = run_deid(*erase, env=env)
    assert done.returncode == 0, done.stderr
    victim_key = tokens[victim].split(ENVELOPE_SEPARATOR)[0]
    assert victim_key in done.stdout and "erased 1 key(s) of the subject in 1 domain(s) (channel)" in done.stdout
    assert f"audited as {user}" in done.stdout and "channel-anonymised-data" in done.stdout
    keystore = LocalKeystore.open(settings)
    decryptor = TokenDecryptor(keystore)
    try:
        decryptor.decrypt(tokens[victim])
        raise AssertionError("an erased subject's token decrypted")
    except KeyErasedError:
        pass
    assert [decryptor.decrypt(tokens[s]) for s in SUBJECTS[1:]] == SUBJECTS[1:]
    keystore.close()

    requested = audit_events(catalog, start, "SUBJECT_ERASE_REQUESTED")
    erased = audit_events(catalog, start, "SUBJECT_ERASE")
    assert len(requested) == 1 and len(erased) == 1 and requested[0]["id"] < erased[0]["id"]
    assert erased[0]["user"] == user and erased[0]["details"]["reason"] == "GDPR request T-1"
    assert erased[0]["details"]["erased_key_ids"] == {"channel": [victim_key]}
    assert erased[0]["details"]["keys_erased"] == 1 and erased[0]["details"]["storage_scrubbed"] is True
    for shown in (json.dumps(requested + erased), done.stdout, done.stderr, dry.stdout):
        assert victim not in shown and master not in shown

    again = run_deid(*erase, env=env)
    assert again.returncode == 3 and "already erased" in again.stderr
    unknown = run_deid("subject", "erase", "user-99999", "--domain", "channel", "--reason", "T-2", env=env)
    assert unknown.returncode == 3 and "no per-subject key for this subject in channel" in unknown.stderr
    no_subject = run_deid("subject", "erase", "x", "--domain", "memo", "--reason", "T-3", env=env)
    assert no_subject.returncode == 2 and "no subject field" in no_subject.stderr
    assert len(audit_events(catalog, start, "SUBJECT_ERASE")) == 3  # the no-op requests are audited too


def test_rotate_and_rewrap_are_audited_and_keep_tokens_readable(catalog: CatalogServer, tmp_path: Path) -> None:
    old_file, new_file = tmp_path / "secret" / "old.key", tmp_path / "secret" / "new.key"
    assert run_deid("keys", "new-master-key", str(old_file)).returncode == 0
    assert run_deid("keys", "new-master-key", str(new_file)).returncode == 0
    user, password = catalog.credentials("steward")
    data = tmp_path / "data"
    env = deid_env(
        DEID_DATA_DIR=str(data),
        DEID_MASTER_KEY_FILE=str(old_file),
        DEID_CATALOG_URL=catalog.url,
        DEID_CATALOG_USER=user,
        DEID_CATALOG_PASSWORD=password,
    )
    start = catalog.client("admin").audit_feed(since=0, limit=10000)["next"]
    assert run_deid("keys", "init", env=env).returncode == 0
    settings = Settings(data_dir=data, master_key_file=old_file)
    keystore = LocalKeystore.open(settings)
    shared = keystore.current("encrypt.channel")
    old_token = shared.key_id + ENVELOPE_SEPARATOR + Fernet(shared.material).encrypt(b"user-1").decode()
    keystore.close()
    tokens = subject_tokens(settings)

    rotated = run_deid("keys", "rotate", "--domain", "channel", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "rotated 1 key(s)" in rotated.stdout and shared.key_id in rotated.stdout
    [event] = audit_events(catalog, start, "KEY_ROTATE")
    [key] = event["details"]["keys"]
    assert key["name"] == "encrypt.channel" and key["previous"] == shared.key_id and key["generation"] == 2
    assert run_deid("keys", "rotate", "--domain", "nope", env=env).returncode == 2

    new_env = {**env, "DEID_MASTER_KEY_FILE": str(new_file)}
    missing = run_deid("keys", "rewrap", env=new_env)
    assert missing.returncode == 1 and "nothing was changed" in missing.stderr
    rewrapped = run_deid("keys", "rewrap", "--old-master-key-file", str(old_file), env=new_env)
    assert rewrapped.returncode == 0, rewrapped.stderr
    [event] = audit_events(catalog, start, "KEYS_REWRAP")
    moved = event["details"]["rewrapped"]
    assert moved >= 10 and f"re-wrapped {moved} key(s)" in rewrapped.stdout  # 9 init + rotated + index + 3 subjects
    old_file.unlink()  # the old master key is destroyed
    keystore = LocalKeystore.open(Settings(data_dir=data, master_key_file=new_file))
    decryptor = TokenDecryptor(keystore)
    assert decryptor.decrypt(old_token) == "user-1"
    assert [decryptor.decrypt(tokens[s]) for s in SUBJECTS] == SUBJECTS
    assert keystore.current("encrypt.channel").info.generation == 2
    keystore.close()
    for shown in (rotated.stdout, rewrapped.stdout, json.dumps(event)):
        assert new_file.read_text().strip() not in shown
