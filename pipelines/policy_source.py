"""Where a worker gets its policy, and where it reports what it did: the seams to the catalog.

`PolicySource.latest_published(domain)` gives the newest published policy of a domain (or None). Two
sources exist: the catalog (`pipelines.catalog_binding.catalog_policy_source`) and a
reviewed policy file (`FilePolicySource`, "policy as code": `deid pipeline run DOMAIN --policy-file P`,
re-read when the file changes). `PolicyWatcher` polls a source every few seconds and hands the worker a
policy only when its version differs from the one running.

`LineageSink` receives the worker's lineage (its `deid_pipeline` entity: raw topic in, anonymised and
purpose topics out, policy version) when it starts or switches policy, and the field paths no rule
covered (dropped, to show in the catalog as new). `AuditSink` records re-identifications. The catalog
implements both (pipelines/catalog_binding.py); `LoggingSink` writes them to the log (paths and counts
only, never values) for a worker with no catalog credentials.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from deid.errors import ConfigError
from deid.policy import Policy, PolicyError

log = logging.getLogger(__name__)
DEFAULT_POLL_SECONDS = 5.0


@runtime_checkable
class PolicySource(Protocol):
    def latest_published(self, domain: str) -> Policy | None:
        """The domain's newest published policy, or None when it has none."""

    def describe(self) -> str:
        """Where policies come from, for messages (no credentials)."""


class FilePolicySource:
    """A reviewed policy document (YAML or JSON) on disk, re-read when its modification time or size changes.

    The file must say `status: published` and name the domain the worker runs; anything else is a
    ConfigError naming the file, so a draft never reaches a stream by accident.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[float, int] | None = None
        self._policy: Policy | None = None

    def describe(self) -> str:
        return f"policy file {self.path}"

    def latest_published(self, domain: str) -> Policy | None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read policy file ({exc.strerror})") from None
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._seen or self._policy is None:
            try:
                policy = Policy.load(self.path)
            except PolicyError as exc:
                raise ConfigError(str(exc)) from None
            if policy.status != "published":
                raise ConfigError(
                    f"{self.path}: the policy has status {policy.status!r}; a worker runs only published "
                    "policies (set `status: published` and a version >= 1 once it is reviewed)"
                )
            self._policy, self._seen = policy, stamp
        if self._policy.domain != domain:
            raise ConfigError(f"{self.path}: the policy is for domain {self._policy.domain!r}, not {domain!r}")
        return self._policy


class StaticPolicySource:
    """One policy held in memory (tests, benchmarks, embedding the worker in another program)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def describe(self) -> str:
        return "a policy given in memory"

    def latest_published(self, domain: str) -> Policy | None:
        return self.policy if self.policy.domain == domain and self.policy.status == "published" else None


class PolicyWatcher:
    """Polls a source at most every `interval` seconds; `changed()` returns a policy only when its version
    differs from the current one. A source that fails or loses its policy keeps the current one running
    (it was published and reviewed) and logs why."""

    def __init__(
        self,
        source: PolicySource,
        domain: str,
        current: Policy,
        interval: float = DEFAULT_POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.domain, self.current, self.interval, self.clock = source, domain, current, interval, clock
        self._next = clock() + interval

    def changed(self) -> Policy | None:
        now = self.clock()
        if now < self._next:
            return None
        self._next = now + self.interval
        try:
            latest = self.source.latest_published(self.domain)
        except Exception as exc:  # a broken file or an unreachable catalog must not stop the stream
            log.error(
                "policy check failed (%s): %s; still running policy v%s",
                self.source.describe(),
                exc,
                self.current.version,
            )
            return None
        if latest is None:
            log.warning(
                "%s has no published policy for %s any more; still running v%s",
                self.source.describe(),
                self.domain,
                self.current.version,
            )
            return None
        if latest.version == self.current.version:
            return None
        return latest

    def accept(self, policy: Policy) -> None:
        self.current = policy


@dataclass(frozen=True)
class PipelineLineage:
    """What the catalog's `deid_pipeline` entity says about one worker's domain."""

    domain: str
    cluster: str
    inputs: Sequence[str]
    outputs: Sequence[str]
    dlq: str
    policy_version: int
    delivery_mode: str = "at-least-once"
    risk: dict[str, Any] | None = None
    """The k-anonymity report of the worker's risk window (`RiskReport.to_json()`), when it has one."""


class LineageSink(Protocol):
    def pipeline_started(self, lineage: PipelineLineage) -> None:
        """Upsert the domain's `deid_pipeline` entity (on start and on every policy switch)."""

    def pipeline_stopped(self, lineage: PipelineLineage) -> None:
        """The worker stopped (its `deid_pipeline` state becomes stopped)."""

    def uncovered_fields(self, domain: str, paths: Sequence[str]) -> None:
        """Field paths seen in records that no rule covers (dropped); each path is reported once per run."""

    def retry_pending(self) -> None:
        """Send again what could not be recorded (the catalog was down); called between batches, cheap."""


class AuditSink(Protocol):
    def reidentified(self, user: str, domain: str, fields: Sequence[str], records: int, destination: str) -> None:
        """Record that `user` re-identified `fields` of `records` records of `domain` to `destination`."""


class LoggingSink:
    """LineageSink and AuditSink that log (names, paths and counts only): a worker without a catalog."""

    def pipeline_started(self, lineage: PipelineLineage) -> None:
        log.info(
            "lineage: deid_pipeline %s (%s → %s, dlq %s) policy v%s",
            lineage.domain,
            ", ".join(lineage.inputs),
            ", ".join(lineage.outputs),
            lineage.dlq,
            lineage.policy_version,
        )

    def pipeline_stopped(self, lineage: PipelineLineage) -> None:
        log.info("lineage: deid_pipeline %s stopped (policy v%s)", lineage.domain, lineage.policy_version)

    def retry_pending(self) -> None:
        pass  # the log never refuses

    def uncovered_fields(self, domain: str, paths: Sequence[str]) -> None:
        log.warning("%s: fields no rule covers were dropped: %s", domain, ", ".join(paths))

    def reidentified(self, user: str, domain: str, fields: Sequence[str], records: int, destination: str) -> None:
        log.warning(
            "audit: %s re-identified %s of %d %s record(s) to %s", user, ", ".join(fields), records, domain, destination
        )
