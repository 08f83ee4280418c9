"""What every benchmark shares: its context, a private embedded broker, result files, tables.

Benchmarks compare ratios taken inside one run (the machines are shared and noisy); they never assert
a timing. Each `bench_<name>.py` module defines NAME, DESCRIPTION and `run(ctx) -> dict`.
"""

from __future__ import annotations

import bisect
import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deid.settings import Settings, load_settings
from deid.stack.kafka_broker import EmbeddedKafka
from deid.stack.process import free_port


@dataclass
class BenchContext:
    out_dir: Path
    quick: bool = False
    """Small counts, for the smoke test that proves each bench still runs."""
    scale: float = 1.0
    notes: list[str] = field(default_factory=list)
    minutes: float | None = None
    """How long a timed benchmark (soak) runs, when given (`--minutes N`)."""

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else max(1, int(full * self.scale))


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


@contextmanager
def embedded_broker(heap: str = "1g", properties: Mapping[str, str] | None = None) -> Iterator[Settings]:
    """A private single-node Kafka on free loopback ports in a temporary data dir, stopped after; `properties`
    replace the stack broker's (e.g. Kafka's default group join delay where the stack sets none)."""
    with private_broker(heap, properties) as (settings, _broker):
        yield settings


@contextmanager
def private_broker(
    heap: str = "1g", properties: Mapping[str, str] | None = None
) -> Iterator[tuple[Settings, EmbeddedKafka]]:
    """`embedded_broker`, with the broker itself (its pid, for the CPU it spends)."""
    kafka_home = load_settings().kafka_install_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="deid-bench-") as data_dir:
        settings = Settings(
            kafka_bootstrap=f"127.0.0.1:{free_port()}",
            kafka_controller_port=free_port(),
            data_dir=Path(data_dir),
            kafka_home=kafka_home,
            kafka_heap=heap,
        )
        broker = EmbeddedKafka(settings, dict(properties or {}))
        progress(f"starting a private Kafka broker on {settings.kafka_bootstrap}")
        broker.start(timeout=120)
        try:
            yield settings, broker
        finally:
            broker.stop()


class CpuSampler:
    """A process's CPU seconds (user + system, every thread), sampled every `interval` s in a thread, so the
    CPU it spent between two wall-clock times can be read afterwards (`between`)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._stat = Path(f"/proc/{pid}/stat")
        self._tick = os.sysconf("SC_CLK_TCK")
        self._interval = interval
        self._samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fields = self._stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended
                return
            self._samples.append((time.time(), (int(fields[11]) + int(fields[12])) / self._tick))
            self._stop.wait(self._interval)

    def between(self, start: float, end: float) -> float:
        """CPU seconds from the last sample at or before `start` to the first at or after `end`."""
        samples = self._samples
        times = [t for t, _ in samples]
        first = samples[max(0, bisect.bisect_right(times, start) - 1)][1]
        last = samples[min(len(samples) - 1, bisect.bisect_left(times, end))][1]
        return last - first


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or of its waited-for children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def machine() -> dict[str, object]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def write_result(ctx: BenchContext, name: str, result: dict[str, object]) -> Path:
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.out_dir / f"{name}.json"
    payload = {"bench": name, "quick": ctx.quick, "machine": machine(), **result}
    if ctx.notes:
        payload["notes"] = ctx.notes
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return "" if value is None else str(value)
