"""Real catalog servers and a private PostgreSQL for tests (fixtures in tests/conftest.py).

`CatalogServer` runs the real app under uvicorn in a thread on a free loopback port;
`PostgresCluster` is a throw-away PostgreSQL cluster (initdb in a temporary directory, its own port
and unix socket; as the `postgres` user when the tests run as root, since initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import uvicorn

from catalog.client import CatalogClient
from deid.settings import Settings
from deid.stack.process import free_port

ROLE_PASSWORD = "test-password-1"


def _pg_bin() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if not candidates:
        raise RuntimeError(
            "PostgreSQL is not installed (no initdb): `apt-get install postgresql`; ./scripts/test installs it in CI"
        )
    return Path(candidates[-1]).parent


class PostgresCluster:
    """A private PostgreSQL server on 127.0.0.1:<free port>, removed by `stop()`."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="deid-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.user = "deid"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {(result.stderr or result.stdout)[-2000:]}")

    def start(self) -> PostgresCluster:
        self.socket_dir.mkdir(parents=True)
        password_file = self.root / "pwfile"
        password_file.write_text(self.password + "\n")
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
            shutil.chown(password_file, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={password_file}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.socket_dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-o", options, "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, password=self.password, dbname="postgres"
        ) as connection:
            connection.autocommit = True
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def pause(self) -> None:
        """Stop the server, keeping its data (`resume` starts it again on the same port)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.socket_dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class CatalogServer:
    """The real catalog app served by uvicorn in a background thread."""

    settings: Settings
    url: str = ""
    admin_password: str = ""
    _server: Any = None
    _thread: threading.Thread | None = None
    _users: set[str] = field(default_factory=set)

    def start(self, port: int | None = None) -> CatalogServer:
        """Serve on `port` (default a free one; the same one again to restart a stopped server)."""
        from catalog.server.app import create_app

        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        app = create_app(self.settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"catalog-{port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the catalog server did not start")
            time.sleep(0.02)
        if self.settings.admin_password is not None:
            self.admin_password = self.settings.admin_password.get_secret_value()
        else:
            self.admin_password = self.settings.admin_password_file.read_text().strip()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.app_context().store.dispose()

    def app_context(self) -> Any:
        return self._server.config.app.state.catalog

    def credentials(self, role: str = "admin") -> tuple[str, str]:
        """(user, password) of a user holding `role` (created on first use)."""
        if role == "admin":
            return "admin", self.admin_password
        name = f"test-{role}"
        if name not in self._users:
            answer = requests.post(
                f"{self.url}/api/deid/v1/users",
                json={"name": name, "password": ROLE_PASSWORD, "role": role},
                auth=("admin", self.admin_password),
                timeout=30,
            )
            assert answer.status_code in (201, 409), answer.text
            self._users.add(name)
        return name, ROLE_PASSWORD

    def http(self, role: str | None = "admin") -> requests.Session:
        """A requests session authenticated as `role` (anonymous for None), base URL not included."""
        session = requests.Session()
        if role is not None:
            session.auth = self.credentials(role)
        return session

    def client(self, role: str = "admin", **options: Any) -> CatalogClient:
        user, password = self.credentials(role)
        return CatalogClient(self.url, user, password, **options)

    def env(self, role: str = "steward") -> dict[str, str]:
        """DEID_* variables that make a `deid` subprocess talk to this catalog as a user holding `role`."""
        user, password = self.credentials(role)
        return {"DEID_CATALOG_URL": self.url, "DEID_CATALOG_USER": user, "DEID_CATALOG_PASSWORD": password}


def start_catalog(data_dir: Path, database_url: str | None = None, **settings: Any) -> CatalogServer:
    values: dict[str, Any] = {"data_dir": data_dir, "catalog_db": database_url, **settings}
    return CatalogServer(Settings(**values)).start()
