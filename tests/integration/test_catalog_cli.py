"""`deid catalog serve|init|user …` as a user runs them: first-start credentials in embedded and
production mode, user management from the command line, and start-up errors."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from catalog.client import CatalogClient
from deid.settings import Settings
from deid.stack.process import free_port
from tests.conftest import REPO, deid_env, run_deid


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    return deid_env(DEID_DATA_DIR=str(data_dir), DEID_CATALOG_URL=f"http://127.0.0.1:{port}", **extra)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`deid catalog serve` in a subprocess until the block ends (SIGTERM, must exit 0)."""
    url = env["DEID_CATALOG_URL"]
    process = subprocess.Popen(
        [sys.executable, "-m", "deid", "catalog", "serve"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if requests.get(f"{url}/api/atlas/admin/status", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "catalog did not start"
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        process.stderr_text = stderr  # type: ignore[attr-defined]
    assert process.returncode == 0, stderr


def _user(args: list[str], env: dict[str, str], password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deid", "catalog", "user", *args],
        env=env,
        cwd=REPO,
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_embedded_first_start_writes_a_private_password_file(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    with serving(env) as (url, process):
        password_file = tmp_path / "catalog" / "admin-password"
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "catalog" / "catalog.db").stat().st_mode) == 0o600
        client = CatalogClient.from_settings(Settings(data_dir=tmp_path, catalog_url=url))
        assert client.session_info()["userName"] == "admin"
    password = password_file.read_text().strip()
    first_log = process.stderr_text  # type: ignore[attr-defined]
    assert f"its password is in {password_file.resolve()} (mode 600)" in first_log
    assert password not in first_log

    with serving(env) as (url, process):  # a restart keeps the admin and its password
        assert requests.get(f"{url}/api/atlas/admin/session", auth=("admin", password), timeout=30).status_code == 200
    assert "created user" not in process.stderr_text  # type: ignore[attr-defined]
    assert password_file.read_text().strip() == password

    changed = _user(["passwd", "admin"], env, "a-new-admin-password")
    assert changed.returncode == 0 and f"updated {password_file.resolve()}" in changed.stdout, changed.stderr
    assert password_file.read_text().strip() == "a-new-admin-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600


def test_production_mode_has_no_default_password(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port(), DEID_CATALOG_MODE="production")
    refused = run_deid("catalog", "serve", env=env)
    assert refused.returncode == 2
    assert "production mode sets no default password" in refused.stderr and "DEID_ADMIN_PASSWORD" in refused.stderr
    assert "deid catalog user add admin --role admin" in refused.stderr
    assert not (tmp_path / "catalog" / "admin-password").exists()


def test_admin_password_from_environment_and_user_commands(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port, DEID_CATALOG_MODE="production", DEID_ADMIN_PASSWORD="automation-secret-1")
    init = run_deid("catalog", "init", env=env)
    assert init.returncode == 0, init.stderr
    assert "with the password from DEID_ADMIN_PASSWORD" in init.stderr and "is ready" in init.stdout
    assert "automation-secret-1" not in init.stdout + init.stderr
    assert not (tmp_path / "catalog" / "admin-password").exists()

    added = _user(["add", "alice", "--role", "steward"], env, "alice-password-1")
    assert added.returncode == 0 and "added alice (steward)" in added.stdout, added.stderr
    assert "alice-password-1" not in added.stdout + added.stderr
    again = _user(["add", "alice", "--role", "viewer"], env, "alice-password-1")
    assert again.returncode == 2 and "User alice already exists" in again.stderr
    short = _user(["add", "bob", "--role", "viewer"], env, "short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    empty = _user(["add", "bob", "--role", "viewer"], env, "")
    assert empty.returncode == 2 and "no password on stdin" in empty.stderr
    bad_role = _user(["add", "bob", "--role", "owner"], env, "long-enough-1")
    assert bad_role.returncode == 2 and "owner" in bad_role.stderr
    assert _user(["role", "alice", "viewer"], env).returncode == 0
    assert _user(["passwd", "alice"], env, "alice-password-2").returncode == 0
    assert _user(["passwd", "nobody"], env, "whatever-pw-1").returncode == 2
    listed = _user(["list"], env)
    assert "alice  viewer" in listed.stdout and "admin  admin" in listed.stdout

    with serving(env) as (url, _):
        me = requests.get(f"{url}/api/atlas/admin/session", auth=("alice", "alice-password-2"), timeout=30)
        assert me.json() == {"userName": "alice", "groups": [], "roles": ["viewer"]}
        old = requests.get(f"{url}/api/atlas/admin/session", auth=("alice", "alice-password-1"), timeout=30)
        assert old.status_code == 401
        feed = requests.get(
            f"{url}/api/deid/v1/audit", params={"action": "USER_ADD"}, auth=("admin", "automation-secret-1"), timeout=30
        ).json()
        assert {e["user"] for e in feed["events"]} >= {"deid-system", f"cli:{_login()}"}
    removed = _user(["remove", "alice"], env)
    assert removed.returncode == 0 and "removed alice" in removed.stdout
    last = _user(["remove", "admin"], env)
    assert last.returncode == 2 and "last admin" in last.stderr


def _login() -> str:
    import getpass

    return getpass.getuser()


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_deid("catalog", "serve", "--port", str(port), env=_env(tmp_path, free_port()))
    assert result.returncode == 1 and f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_bad_database_setting_is_named_not_echoed(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port(), DEID_CATALOG_DB="mysql://root:db-secret-9@db/catalog")
    result = run_deid("catalog", "init", env=env)
    assert result.returncode == 2 and "DEID_CATALOG_DB" in result.stderr
    assert "db-secret-9" not in result.stderr
    unreachable = _env(tmp_path, free_port(), DEID_CATALOG_DB=f"postgresql://u:db-secret-8@127.0.0.1:{free_port()}/x")
    result = run_deid("catalog", "init", env=unreachable)
    assert result.returncode == 1 and "db-secret-8" not in result.stderr
    assert "cannot open the catalog database postgresql+psycopg://u:***@127.0.0.1" in result.stderr
    assert os.environ.get("DEID_CATALOG_DB") is None
