"""Latency at a steady 1,000 events/s: from `produce()` of a raw channel event to its anonymised record being
readable (read_committed), p50/p90/p99, for an at-least-once and an exactly-once worker (each its own
`deid pipeline run channel` process on a private broker). Goals (issue 19): p99 < 100 ms at-least-once,
< 300 ms exactly-once. The worker takes what has arrived as one batch (it never waits for a full one), so in
exactly-once the transaction interval is the time one batch takes: it is reported as `batches_per_s`
and `batch_interval_ms` (committed batches per second and the time between them, from the worker's
Prometheus metrics over the measured seconds)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.benchmarks.common import BenchContext, embedded_broker, print_table
from tests.benchmarks.steady import SteadyRun

NAME = "latency"
DESCRIPTION = "produce → anonymised-committed latency p50/p99 at 1,000 events/s, at-least-once and exactly-once"
RATE = 1000


def run(ctx: BenchContext) -> dict[str, object]:
    from tests.integration.registry_server import serve_registry

    seconds = 5.0 if ctx.quick else 60.0 * ctx.scale
    warmup = 2.0 if ctx.quick else 10.0
    modes: dict[str, dict[str, object]] = {}
    with embedded_broker() as settings, tempfile.TemporaryDirectory(prefix="deid-bench-latency-") as tmp:
        registry = serve_registry(Path(tmp) / "registry.db")
        with registry as registry_url:
            for mode, exactly_once in (("at_least_once", False), ("exactly_once", True)):
                data_dir = Path(tmp) / mode
                data_dir.mkdir()
                steady = SteadyRun(settings, registry_url, data_dir, exactly_once, f"latency-{mode}")
                result = steady.measure(RATE, warmup, seconds, rss_every=5.0)
                modes[mode] = {**result.summary(), "peak_rss_mb": max((r for _, r in result.rss_samples), default=0)}
    print_table(
        ["mode", "events/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "lost", "batch every ms", "worker RSS MiB"],
        [(m, r["rate_eps"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"], r["lost"], r["batch_interval_ms"],
          r["peak_rss_mb"]) for m, r in modes.items()],
    )  # fmt: skip
    return {"rate": RATE, "seconds": seconds, "warmup_seconds": warmup, "modes": modes,
            "goals_ms": {"at_least_once_p99": 100, "exactly_once_p99": 300}}  # fmt: skip
