"""The embedded object storage: one MinIO server per region endpoint of DEID_STORAGE_LOCATIONS that points at
loopback (`http://127.0.0.1:PORT`), data under DEID_DATA_DIR/minio/<region>, started by `deid stack up` when
storage is configured. The binary is what scripts/install-minio built (DEID_DATA_DIR/bin/minio)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from deid.regions import StorageLocation, parse_locations
from deid.settings import Settings
from deid.stack.process import ManagedProcess, StackError, free_port, port_in_use, tail_lines

HEALTH_PATH = "/minio/health/live"
_LOOPBACK = {"127.0.0.1", "localhost"}


def minio_binary(settings: Settings) -> Path:
    return (settings.data_dir / "bin" / "minio").resolve()


@dataclass
class MinioServer:
    """One MinIO server on a loopback port with its own data folder, pid file and log."""

    binary: Path
    data_dir: Path
    port: int
    access_key: str
    secret_key: str = field(repr=False)
    name: str = "minio"
    console_port: int | None = None
    """MinIO always serves a console too; default: the API port + 1 (any free port when that one is taken)."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(self.name, self.data_dir.parent, marker=f"{self.binary} server {self.data_dir}")

    def start(self, timeout: float = 60.0) -> str:
        if not self.binary.is_file():
            raise StackError(f"MinIO is not installed at {self.binary}; run scripts/install-minio")
        process = self.process
        for attempt in range(3):
            if process.pid() is None:
                if port_in_use("127.0.0.1", self.port):
                    raise StackError(
                        f"port {self.port} on 127.0.0.1 is already in use; choose another storage endpoint"
                    )
                self.data_dir.mkdir(parents=True, exist_ok=True)
                console = self.console_port or (_console_port(self.port) if attempt == 0 else free_port())
                command = [
                    str(self.binary),
                    "server",
                    str(self.data_dir),
                    "--address",
                    f"127.0.0.1:{self.port}",
                    "--console-address",
                    f"127.0.0.1:{console}",
                    "--quiet",
                ]
                env = {"MINIO_ROOT_USER": self.access_key, "MINIO_ROOT_PASSWORD": self.secret_key}
                process.start(command, env=env)
            try:
                self.wait_ready(timeout)
                break
            except StackError as exc:
                # The console port is ours to choose: one taken between the check and MinIO's bind (a client
                # socket) is no reason to fail; another is tried.
                if self.console_port is None and attempt < 2 and "console server" in str(exc):
                    continue
                raise
        return f"running on {self.endpoint} (pid {process.pid()}, data {self.data_dir})"

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.pid() is None:
                raise StackError(
                    f"MinIO exited during start; see {self.process.log_file}:\n{tail_lines(self.process.log_file)}"
                )
            try:
                if requests.get(self.endpoint + HEALTH_PATH, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise StackError(f"MinIO did not answer on {self.endpoint} within {timeout:g}s; see {self.process.log_file}")

    def stop(self) -> str:
        return "stopped" if self.process.stop(timeout=20) else "was not running"


def _console_port(port: int) -> int:
    # MinIO insists on a console listener; put it next to the API port (never a fixed, shared one), unless
    # something holds that port already (an API port in the ephemeral range has client sockets beside it):
    # then any free one, since nothing of deid reaches the console.
    beside = port + 1 if port < 65535 else port - 1
    return free_port() if port_in_use("127.0.0.1", beside) else beside


def _loopback_endpoints(locations: list[StorageLocation]) -> dict[str, str]:
    """endpoint → region of the configured locations the embedded stack serves itself."""
    found: dict[str, str] = {}
    for loc in locations:
        if loc.endpoint and urlsplit(loc.endpoint).hostname in _LOOPBACK:
            found.setdefault(loc.endpoint.rstrip("/"), loc.region)
    return found


@dataclass
class EmbeddedStorage:
    """`deid stack` service: the MinIO servers of the configured regions, and their buckets."""

    settings: Settings
    name = "storage"

    def servers(self) -> list[MinioServer]:
        settings = self.settings
        endpoints = _loopback_endpoints(parse_locations(settings.storage_locations))
        if endpoints and not (settings.s3_access_key and settings.s3_secret_key):
            raise StackError("DEID_S3_ACCESS_KEY and DEID_S3_SECRET_KEY must be set for the embedded storage")
        if len(settings.s3_access_key) < 3 or len(settings.s3_secret_key.get_secret_value()) < 8:
            raise StackError("MinIO needs DEID_S3_ACCESS_KEY of 3+ and DEID_S3_SECRET_KEY of 8+ characters")
        root = (settings.data_dir / "minio").resolve()
        return [
            MinioServer(
                minio_binary(settings),
                root / region,
                urlsplit(endpoint).port or 80,
                settings.s3_access_key or "",
                settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else "",
                name=f"minio-{region}",
            )
            for endpoint, region in endpoints.items()
        ]

    def start(self, timeout: float = 60.0) -> str:
        # Imported here for start-up time: boto3 loads only when storage is configured.
        from batch.store import S3Store, StoreSpec

        servers = self.servers()
        if not servers:
            return "not configured (no DEID_STORAGE_LOCATIONS on loopback)"
        lines = [f"{s.name} {s.start(timeout)}" for s in servers]
        for loc in parse_locations(self.settings.storage_locations):
            if loc.endpoint and loc.endpoint.rstrip("/") in {s.endpoint for s in servers}:
                secret = self.settings.s3_secret_key.get_secret_value() if self.settings.s3_secret_key else None
                S3Store(StoreSpec(loc.uri, loc.endpoint, self.settings.s3_access_key, secret)).ensure_bucket()
        return "; ".join(lines)

    def stop(self) -> str:
        servers = self.servers()
        return "; ".join(f"{s.name} {s.stop()}" for s in servers) or "not configured"

    def status(self) -> tuple[bool, str]:
        servers = self.servers()
        if not servers:
            return True, "not configured"
        states = [(s.process.pid() is not None, s) for s in servers]
        running = all(up for up, _ in states)
        return running, "; ".join(f"{s.name} {'running on ' + s.endpoint if up else 'not running'}" for up, s in states)
