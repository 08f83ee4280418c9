"""Background processes of the embedded stack: pid files, logs, port checks, graceful stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deid.errors import DeidError


class StackError(DeidError):
    """A stack service could not be started, checked or stopped."""


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (or it cannot be bound)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tail_lines(path: Path, count: int = 15) -> str:
    """The last lines of a service log, for error messages (service logs hold no record data)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-count:])


def _read_cmdline_and_state(pid: int) -> tuple[str, str]:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "", "Z"
    return cmdline, state


def _cmdline_and_state(pid: int, settle: float = 2.0) -> tuple[str, str]:
    """/proc's view of `pid`. A process that is just exec'ing shows an empty cmdline for a moment
    (often right after Popen returns): wait briefly for it instead of calling it stale."""
    cmdline, state = _read_cmdline_and_state(pid)
    deadline = time.monotonic() + settle
    while not cmdline.strip() and state != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)
        cmdline, state = _read_cmdline_and_state(pid)
    return cmdline, state


@dataclass
class ManagedProcess:
    """A detached process known by its pid file; `marker` must appear in its command line."""

    name: str
    run_dir: Path
    marker: str

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our running process, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        cmdline, state = _cmdline_and_state(pid)
        if self.marker not in cmdline or state == "Z":
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def start(self, command: Sequence[str], env: dict[str, str] | None = None) -> int:
        """Start detached (own session, survives the CLI), output appended to the log file; `env` is added to
        this process's environment (secrets go there, never on the command line)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **env} if env else None,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        # Until the child has exec'd, /proc/<pid>/cmdline is still ours, without the marker, and `pid()`
        # would take the starting process for a dead one (seen on loaded machines): wait for the exec.
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                break
            if self.marker.encode() in cmdline:
                break
            time.sleep(0.01)
        return process.pid

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, wait up to `timeout`, then SIGKILL. False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive(pid):
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            while self._alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _alive(pid: int) -> bool:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap if it is our child
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"
