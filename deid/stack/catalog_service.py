"""The embedded catalog: `deid catalog serve` as a background process of `deid stack`, on the host
and port of DEID_CATALOG_URL, with its pid file and log in DEID_DATA_DIR/catalog."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from deid.settings import Settings
from deid.stack.process import ManagedProcess, StackError, port_in_use, tail_lines

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STATUS_PATH = "/api/atlas/admin/status"


@dataclass
class EmbeddedCatalog:
    settings: Settings

    name = "catalog"

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.settings.catalog_url)
        return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("catalog", self.settings.catalog_dir.resolve(), marker=" ".join(self._command()[2:]))

    def describe(self) -> str:
        return self.settings.catalog_url

    def _check_address(self) -> None:
        host, _ = self.address
        if host not in _LOOPBACK or urlsplit(self.settings.catalog_url).scheme != "http":
            raise StackError(
                f"DEID_CATALOG_URL points at {self.settings.catalog_url}, but the embedded catalog only serves "
                "http on loopback; use http://127.0.0.1:PORT, or run against your own catalog without `deid stack up`"
            )

    def _command(self) -> list[str]:
        host, port = self.address
        host = "127.0.0.1" if host == "localhost" else host
        return [sys.executable, "-m", "deid", "catalog", "serve", "--host", host, "--port", str(port)]

    def _password_note(self) -> str:
        path = self.settings.admin_password_file
        return f"; admin password in {path.resolve()}" if path.is_file() else ""

    def preflight(self) -> None:
        """Fail early (before `deid stack up` starts anything) on an address the catalog cannot serve."""
        self._check_address()
        host, port = self.address
        if self.process.pid() is None and port_in_use(host, port):
            raise StackError(
                f"port {port} on {host} is already in use by another process; stop it, or choose another port "
                "with DEID_CATALOG_URL"
            )

    def start(self, timeout: float = 90.0) -> str:
        self.preflight()
        process = self.process
        if process.pid() is not None:
            self.wait_ready(timeout)
            return f"already running on {self.describe()} (pid {process.pid()})"
        pid = process.start(self._command())
        self.wait_ready(timeout)
        return f"started on {self.describe()} (pid {pid}, log {process.log_file}{self._password_note()})"

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = self.settings.catalog_url + STATUS_PATH
        while time.monotonic() < deadline:
            if self.process.pid() is None:
                raise StackError(
                    f"the catalog exited during start; see {self.process.log_file}:\n"
                    f"{tail_lines(self.process.log_file)}"
                )
            try:
                answer = requests.get(url, timeout=2)
                if answer.status_code == 200 and answer.json().get("Status") == "ACTIVE":
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.3)
        raise StackError(f"the catalog did not answer on {url} within {timeout:g}s; see {self.process.log_file}")

    def stop(self) -> str:
        return "stopped" if self.process.stop(timeout=30) else "was not running"

    def status(self) -> tuple[bool, str]:
        pid = self.process.pid()
        if pid is None:
            return False, "not running"
        return True, f"running on {self.describe()} (pid {pid}, log {self.process.log_file})"
