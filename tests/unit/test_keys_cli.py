"""`deid keys` as a user runs it: init, list, new-master-key; never any key material on screen."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.fernet import Fernet

from deid.settings import Settings
from pipelines.keys import LocalKeystore
from tests.conftest import deid_env, run_deid


def test_keys_refuse_to_run_without_a_master_key(tmp_path: Path) -> None:
    result = run_deid("keys", "init", env=deid_env(DEID_DATA_DIR=str(tmp_path)))
    assert result.returncode == 2
    assert "DEID_MASTER_KEY " in result.stderr and "DEID_MASTER_KEY_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_then_list_show_ids_never_material(tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    env = deid_env(DEID_DATA_DIR=str(tmp_path), DEID_MASTER_KEY=master)
    first = run_deid("keys", "init", env=env)
    assert first.returncode == 0, first.stderr
    assert "encrypt.channel" in first.stdout and "mask.default" in first.stdout and "date_shift.default" in first.stdout
    assert "9 key(s) created, 0 already present" in first.stdout
    again = run_deid("keys", "init", env=env)
    assert "0 key(s) created, 9 already present" in again.stdout
    listed = run_deid("keys", "list", env=env)
    assert listed.returncode == 0 and "per-subject keys: 0 active, 0 erased" in listed.stdout
    keystore = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=master))
    for info in keystore.list_keys():
        assert info.key_id in listed.stdout
        material = keystore.by_id(info.key_id).material
        for shown in (first.stdout, listed.stdout, first.stderr, listed.stderr):
            assert material.decode("latin-1") not in shown and material.hex() not in shown
    assert master not in first.stdout + listed.stdout + first.stderr
    config = run_deid("config", "--json", env=env)
    shown = json.loads(config.stdout)
    assert shown["master_key"] == "***" and master not in config.stdout


def test_new_master_key_file_works_with_the_setting(tmp_path: Path) -> None:
    key_file = tmp_path / "secret" / "deid-master.key"
    made = run_deid("keys", "new-master-key", str(key_file))
    assert made.returncode == 0, made.stderr
    assert f"DEID_MASTER_KEY_FILE={key_file}" in made.stdout
    assert key_file.read_text().strip() not in made.stdout
    env = deid_env(DEID_DATA_DIR=str(tmp_path / "data"), DEID_MASTER_KEY_FILE=str(key_file))
    assert run_deid("keys", "init", env=env).returncode == 0
    assert run_deid("keys", "new-master-key", str(key_file)).returncode == 2  # never overwrites
