"""The de-identification workers as a service of the embedded stack: `deid stack up` starts one
`deid pipeline run DOMAIN --exactly-once` per domain whose policy is published in the catalog (a domain
without one is listed, not started: the worker would refuse), `deid stack down` stops them (SIGTERM:
each finishes and commits its batch). Pid files and logs live in DEID_DATA_DIR/pipelines.

The workers are optional parts of the stack: none running is a normal state, not a failure.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from catalog.client import CatalogClient, CatalogError
from catalog.domain_api import CatalogDomains
from deid.domains import FallbackDomains, load_registry
from deid.errors import DeidError
from deid.settings import Settings
from deid.stack.process import ManagedProcess, StackError, tail_lines

READY_MARK = ": running policy v"  # what the worker logs once its policy is compiled and its topics exist


@dataclass
class PipelineWorkers:
    settings: Settings

    name = "pipelines"

    def describe(self) -> str:
        return "one de-identification worker per domain with a published policy"

    def _domains(self) -> list[str]:
        """The catalog's domains (a domain added there gets a worker at the next `deid stack up`), else the seed
        (to stop workers while the catalog is down)."""
        catalog = CatalogDomains(connect=lambda: CatalogClient.from_settings(self.settings, retries=2))
        return FallbackDomains(catalog, load_registry(self.settings)).registry().names

    def process(self, domain: str) -> ManagedProcess:
        run_dir = (self.settings.data_dir / "pipelines").resolve()
        return ManagedProcess(f"pipeline-{domain}", run_dir, marker=" ".join(self.command(domain)[2:]))

    @staticmethod
    def command(domain: str) -> list[str]:
        return [sys.executable, "-m", "deid", "pipeline", "run", domain, "--exactly-once", "--instance-id", "stack"]

    def published(self) -> dict[str, int]:
        """Domain → latest published policy version, from the catalog (which starts before the workers)."""
        try:
            with CatalogClient.from_settings(self.settings, retries=2) as client:
                rows = client.list_policies()
        except CatalogError as exc:
            raise DeidError(f"cannot read the published policies from the catalog: {exc}") from None
        return {row["domain"]: row["published_version"] for row in rows if row.get("published_version")}

    def start(self, timeout: float = 90.0) -> str:
        published = self.published()
        started: list[tuple[str, ManagedProcess, int]] = []
        running: list[str] = []
        for domain in self._domains():
            if domain not in published:
                continue
            process = self.process(domain)
            if process.pid() is not None:
                running.append(domain)
                continue
            offset = process.log_file.stat().st_size if process.log_file.exists() else 0
            process.start(self.command(domain))
            started.append((domain, process, offset))
        for domain, process, offset in started:
            self._wait_ready(domain, process, offset, timeout)
        waiting = [d for d in self._domains() if d not in published]
        parts = []
        if started:
            parts.append(f"started {', '.join(domain for domain, *_ in started)}")
        if running:
            parts.append(f"already running {', '.join(running)}")
        if waiting:
            parts.append(f"no published policy yet: {', '.join(waiting)}")
        return "; ".join(parts) + f" (logs in {(self.settings.data_dir / 'pipelines').resolve()})"

    @staticmethod
    def _wait_ready(domain: str, process: ManagedProcess, offset: int, timeout: float) -> None:
        """Until the worker says it runs its policy; a worker that exits instead is an error with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(process.log_file, "rb") as log:
                log.seek(offset)
                if READY_MARK.encode() in log.read():
                    return
            if process.pid() is None:
                raise StackError(
                    f"the {domain} worker exited during start; see {process.log_file}:\n{tail_lines(process.log_file)}"
                )
            time.sleep(0.3)
        raise StackError(f"the {domain} worker did not start within {timeout:g}s; see {process.log_file}")

    def stop(self) -> str:
        stopped = [domain for domain in self._domains() if self.process(domain).stop(timeout=60)]
        return f"stopped {', '.join(stopped)}" if stopped else "none was running"

    def running(self) -> dict[str, int]:
        found = {domain: self.process(domain).pid() for domain in self._domains()}
        return {domain: pid for domain, pid in found.items() if pid is not None}

    def status(self) -> tuple[bool, str]:
        running = self.running()
        if not running:
            return True, "no worker running"
        return True, "running " + ", ".join(f"{d} (pid {pid})" for d, pid in running.items())
