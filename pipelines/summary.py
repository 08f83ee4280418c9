"""What a worker run did: counts for the summary it prints (and the bench reads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.risk import RiskReport


@dataclass
class Summary:
    domain: str
    records_in: int = 0
    records_out: int = 0
    """Records written to the main anonymised topic."""
    dlq_by_class: dict[str, int] = field(default_factory=dict)
    purposes: dict[str, list[int]] = field(default_factory=dict)
    """Purpose name → [rows written, rows its consent level left out]."""
    uncovered: list[str] = field(default_factory=list)
    policy_versions: list[int] = field(default_factory=list)
    seconds: float = 0.0
    """From the first record consumed to the last batch committed (events/s are over this time)."""
    startup_seconds: float = 0.0
    """From the start to the first record (policy, keys, registry, topics, group join)."""
    metrics_port: int | None = None
    risk: RiskReport | None = None
    """k-anonymity of the last risk window (None: the domain names no quasi-identifiers)."""
    k_suppressed: int = 0
    """Main-output records whose quasi-identifiers `k_anonymity: suppress` nulled."""

    @property
    def dlq(self) -> int:
        return sum(self.dlq_by_class.values())

    @property
    def events_per_second(self) -> float:
        return self.records_in / self.seconds if self.seconds > 0 else 0.0

    def add_batch(
        self,
        records_in: int,
        records_out: int,
        dlq_by_class: dict[str, int],
        purposes_written: dict[str, int],
        purposes_skipped: dict[str, int],
    ) -> None:
        """Count one committed batch."""
        self.records_in += records_in
        self.records_out += records_out
        for error_class, count in dlq_by_class.items():
            self.dlq_by_class[error_class] = self.dlq_by_class.get(error_class, 0) + count
        for name, written in purposes_written.items():
            counts = self.purposes.setdefault(name, [0, 0])
            counts[0] += written
            counts[1] += purposes_skipped.get(name, 0)

    def lines(self) -> list[str]:
        versions = ", ".join(f"v{v}" for v in self.policy_versions)
        dlq = f"{self.dlq} to DLQ" + (
            f" ({', '.join(f'{k} {v}' for k, v in sorted(self.dlq_by_class.items()))})" if self.dlq else ""
        )
        lines = [
            f"{self.domain}: {self.records_in} in, {self.records_out} out, {dlq} in {self.seconds:.2f} s "
            f"({self.events_per_second:.0f} events/s; start-up {self.startup_seconds:.1f} s), policy {versions}"
        ]
        lines += [f"  purpose {n}: {w} written, {s} left out by consent" for n, (w, s) in sorted(self.purposes.items())]
        if self.risk is not None and self.risk.records:
            r = self.risk
            lines.append(
                f"  re-identification risk over the last {r.records} records ({', '.join(r.quasi_identifiers)}): "
                f"min k {r.min_k} (target {r.target_k}), {r.share_below_target:.1%} of records below target"
                + (f"; {self.k_suppressed} suppressed to reach it" if self.k_suppressed else "")
            )
        if self.uncovered:
            lines.append(f"  dropped fields no rule covers: {', '.join(sorted(self.uncovered))}")
        return lines
