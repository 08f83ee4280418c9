"""Soak: one at-least-once worker (`deid pipeline run channel`, its own process) at a steady 1,000 events/s
for `--minutes N` (default 30; `--quick`: 1), its RSS sampled every 10 s. Verdict: the median RSS of the
last fifth of the samples against the first fifth (after a 30 s warm-up): growth < 5 % is "flat"."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from tests.benchmarks.common import BenchContext, embedded_broker, print_table
from tests.benchmarks.steady import SteadyRun

NAME = "soak"
DESCRIPTION = "a worker at 1,000 events/s for --minutes N (default 30): RSS samples, growth verdict, latency"
RATE = 1000
GROWTH_LIMIT_PERCENT = 5.0


def growth(samples: list[tuple[float, float]]) -> dict[str, object]:
    """Median RSS of the first and the last fifth of the samples, the growth between them and a verdict."""
    rss = [mb for _, mb in samples]
    if len(rss) < 5:
        return {"verdict": "too short to tell", "samples": len(rss)}
    fifth = max(1, len(rss) // 5)
    first, last = statistics.median(rss[:fifth]), statistics.median(rss[-fifth:])
    percent = round((last - first) / first * 100, 2)
    verdict = "flat" if percent < GROWTH_LIMIT_PERCENT else "growing"
    return {"first_mb": first, "last_mb": last, "growth_percent": percent, "verdict": verdict, "samples": len(rss)}


def run(ctx: BenchContext) -> dict[str, object]:
    from tests.integration.registry_server import serve_registry

    minutes = ctx.minutes if ctx.minutes is not None else (1.0 if ctx.quick else 30.0)
    with embedded_broker() as settings, tempfile.TemporaryDirectory(prefix="deid-bench-soak-") as tmp:
        registry = serve_registry(Path(tmp) / "registry.db")
        with registry as registry_url:
            steady = SteadyRun(settings, registry_url, Path(tmp), exactly_once=False, group="soak")
            result = steady.measure(RATE, 30.0, minutes * 60, rss_every=10.0)
    verdict = growth(result.rss_samples)
    latency = result.summary()
    headers = ["minutes", "events", "lost", "p50 ms", "p99 ms", "RSS first MiB", "RSS last MiB", "growth %", "verdict"]
    row = (minutes, latency["sent"], latency["lost"], latency["p50_ms"], latency["p99_ms"], verdict.get("first_mb"),
           verdict.get("last_mb"), verdict.get("growth_percent"), verdict["verdict"])  # fmt: skip
    print_table(headers, [row])
    return {"rate": RATE, "minutes": minutes, "latency": latency, "rss": verdict,
            "rss_samples": [{"t": t, "rss_mb": mb} for t, mb in result.rss_samples]}  # fmt: skip
