"""How a worker binds a policy: the region guard, the compiled plan, the output schemas and topics, the size
limits, k-anonymity suppressors and lineage; and how it switches to a newly published version or a rotated
key between two batches (a version that fails any step is refused and the running one stays).

`PolicyBinding` is the part of `pipelines.worker.Worker` that does this; the attributes it reads are set by
the worker's start-up (`Worker._start`).
"""

from __future__ import annotations

import logging
from typing import Any

from deid.domains import Domain
from deid.errors import DeidError
from deid.policy import Policy
from deid.regions import Egress, check_egress
from deid.settings import Settings
from pipelines.catalog_binding import source_pii_tags
from pipelines.dlq import POLICY_VERSION_HEADER
from pipelines.key_watch import SharedKeyWatcher
from pipelines.keys import Keystore
from pipelines.limits import resolve_limits
from pipelines.metrics import PipelineMetrics
from pipelines.outputs import ensure_topics, output_topics, register_encoders
from pipelines.plan import Plan
from pipelines.policy_source import LineageSink, PipelineLineage, PolicySource, PolicyWatcher
from pipelines.risk import KSuppressor, k_suppressor_for
from pipelines.summary import Summary
from pipelines.transforms.encrypt_modes import current_fpe_key_id

log = logging.getLogger("pipelines.worker")


class PolicyBinding:
    settings: Settings
    options: Any  # WorkerOptions
    source: PolicySource
    domain: Domain
    lineage: LineageSink
    summary: Summary
    metrics: PipelineMetrics
    compile_plan: Any
    suppressors: dict[str, KSuppressor]
    watcher: PolicyWatcher
    key_watcher: SharedKeyWatcher
    registry: Any
    raw_admin: Any
    out_admin: Any
    plan: Plan
    policy: Policy
    encoders: Any
    limits: Any
    _keystore: Keystore | None
    _partitions: int
    _rejected_version: int | None

    def _activate(self, policy: Policy) -> None:
        """Guard, compile, register the schemas, create missing output topics, report lineage; then switch."""
        assert self._keystore is not None
        self._check_region(policy)
        plan, fpe_key_id = self._compile(policy)
        encoders = register_encoders(policy, self.domain, self.registry, fpe_key_id)
        topics = list(output_topics(policy, self.domain))
        ensure_topics(self.out_admin, topics, self._partitions)
        limits = resolve_limits(
            self.settings, self.options.max_record_bytes, self.out_admin, topics, self.raw_admin, self.domain.dlq_topic
        )
        if hasattr(self, "limits"):  # a switch: the producer's own limit stays the one it was built with
            limits.client_bytes = min(limits.client_bytes, self.limits.producer_bytes)
        self._before_switch()
        self.plan, self.encoders, self.policy, self.limits = plan, encoders, policy, limits
        self.suppressors = self._suppressors(policy, topics)
        self._version_header = (POLICY_VERSION_HEADER, str(policy.version).encode())
        for purpose in policy.purposes:
            self.summary.purposes.setdefault(purpose.name, [0, 0])
        self.summary.policy_versions.append(policy.version)
        self.watcher.accept(policy)
        self.metrics.set_state(policy_version=policy.version)
        self._lineage = PipelineLineage(
            self.domain.name,
            self.settings.cluster,
            [self.domain.raw_topic],
            topics,
            self.domain.dlq_topic,
            policy.version,
            "exactly-once" if self.options.exactly_once else "at-least-once",
        )
        self.lineage.pipeline_started(self._lineage)
        log.info("%s: running policy v%s → %s", self.domain.name, policy.version, ", ".join(topics))

    def _before_switch(self) -> None:
        """Called just before the plan changes: the worker commits its batch in flight (in_flight.py) first."""

    def _suppressors(self, policy: Policy, topics: list[str]) -> dict[str, KSuppressor]:
        """Per output topic, the k-anonymity suppressor the policy asks for; a topic's window survives a switch."""
        if policy.k_anonymity != "suppress":
            return {}
        window = self.options.risk_window
        made = {t: self.suppressors.get(t) or k_suppressor_for(self.domain, "suppress", window) for t in topics}
        return {topic: suppressor for topic, suppressor in made.items() if suppressor is not None}

    def _compile(self, policy: Policy) -> tuple[Plan, str | None]:
        """The plan, and the id of the FPE key it encrypts with (for the schemas, which name it).

        Keys only move forward, so the same current id before and after compiling is the one compiled in."""
        assert self._keystore is not None
        for _ in range(3):
            before = current_fpe_key_id(self._keystore, self.domain.name)
            plan = self.compile_plan(policy, self.domain, self._keystore)
            after = current_fpe_key_id(self._keystore, self.domain.name)
            if before == after:
                return plan, after
        raise DeidError(f"{self.domain.name}: the fpe key kept changing while the policy compiled; start again")

    def _check_region(self, policy: Policy) -> None:
        """The region guard: an anonymised cluster in another region gets no PII kept in clear without an exemption."""
        settings, domain = self.settings, self.domain
        source_region, target_region = domain.region or settings.region, settings.region_out or settings.region
        if target_region == source_region:
            return
        target = f"{domain.anonymised_topic} on {settings.bootstrap_out}"
        egress = Egress(f"{domain.raw_topic}@{settings.cluster}", source_region, target, target_region, "anonymised")
        for line in check_egress(egress, policy, source_pii_tags(self.source, domain.raw_topic, settings.cluster)):
            log.warning(
                "%s: region guard: exempted rule %s lets PII cross to region %s", domain.name, line, target_region
            )

    def _maybe_switch_policy(self) -> None:
        if self.key_watcher.rotated():
            try:
                plan, fpe_key_id = self._compile(self.policy)
                encoders = register_encoders(self.policy, self.domain, self.registry, fpe_key_id)
                self._before_switch()
                self.encoders, self.plan = encoders, plan
                log.info(
                    "%s: a key was rotated; now encrypting with %s (fpe: %s)",
                    self.domain.name,
                    self.key_watcher.seen,
                    fpe_key_id,
                )
            except Exception as exc:  # keep the running plan (its key stays valid) rather than stop the stream
                log.error("%s: could not switch to the rotated key (%s)", self.domain.name, type(exc).__name__)
        policy = self.watcher.changed()
        if policy is None or policy.version == self._rejected_version:
            return
        try:
            self._activate(policy)
        except Exception as exc:  # PolicyError, PlanError, registry refusal: keep the reviewed one running
            self._rejected_version = policy.version
            reason = str(exc) if isinstance(exc, DeidError | ValueError) else type(exc).__name__
            log.error("policy v%s not activated, still running v%s: %s", policy.version, self.policy.version, reason)
