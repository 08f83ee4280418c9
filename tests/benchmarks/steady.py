"""A worker under a steady load, as a user runs it: `deid pipeline run channel` in its own process, events
produced at a fixed rate, the anonymised topic read back (read_committed) to time each event from its
`produce()` call to its anonymised record being readable, i.e. committed. The worker's RSS is sampled from
/proc. Used by the `latency` and `soak` benchmarks; asserts nothing."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, TopicPartition
from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.events import EVENT_ID_HEADER
from deid.kafka import client_config, make_admin, make_producer
from deid.settings import Settings
from deid.stack.process import free_port
from deid.topics import create_domain_topics
from producers.channel import ChannelGenerator
from producers.sources import generated_events
from tests.benchmarks.common import progress

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "pipelines" / "policies" / "channel.yaml"


@dataclass
class SteadyResult:
    sent: int = 0
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the measurement started, worker RSS in MiB)."""
    seconds: float = 0.0
    batches: int | None = None
    """Batches the worker committed while measured (one transaction each in exactly-once), from its metrics."""

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1) if lat else None

        return {
            "sent": self.sent,
            "received": self.received,
            "lost": self.sent - self.received,
            "rate_eps": round(self.sent / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "max_ms": round(lat[-1], 1) if lat else None,
            "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
            "batches_per_s": round(self.batches / self.seconds, 1) if self.batches and self.seconds else None,
            "batch_interval_ms": round(self.seconds / self.batches * 1000, 1) if self.batches else None,
        }


def committed_batches(port: int) -> int:
    """`deid_pipeline_batch_seconds_count` of the worker's Prometheus endpoint: batches committed so far."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("deid_pipeline_batch_seconds_count"):
                return int(float(line.rsplit(" ", 1)[1]))
    return 0


def worker_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class SteadyRun:
    """One worker process on a private broker's `channel` topics; `measure()` drives it at `rate` events/s."""

    def __init__(self, settings: Settings, registry_url: str, data_dir: Path, exactly_once: bool, group: str) -> None:
        self.settings, self.registry_url, self.data_dir = settings, registry_url, data_dir
        self.exactly_once, self.group = exactly_once, group
        self.domain = load_registry().get("channel")
        create_domain_topics(make_admin(settings), [self.domain])
        self.events = list(generated_events(ChannelGenerator(self.domain, 11), 20_000, self.domain.subject_field))
        self.metrics_port = free_port()

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEID_")}
        env.update(
            DEID_KAFKA_BOOTSTRAP=self.settings.kafka_bootstrap,
            DEID_DATA_DIR=str(self.data_dir),
            DEID_MASTER_KEY=Fernet.generate_key().decode(),
            DEID_SCHEMA_REGISTRY_URL=self.registry_url,
            DEID_LOG_LEVEL="WARNING",
        )
        command = [sys.executable, "-m", "deid", "pipeline", "run", "channel", "--policy-file", str(POLICY),
                   "--group", self.group, "--instance-id", self.group,
                   "--metrics-port", str(self.metrics_port)]  # fmt: skip
        if self.exactly_once:
            command.append("--exactly-once")
        log = (self.data_dir / f"{self.group}.log").open("wb")
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

    def _reader(self) -> Consumer:
        config = client_config(self.settings, "raw", **{
            "group.id": f"{self.group}-reader", "enable.auto.commit": False, "isolation.level": "read_committed",
            "fetch.wait.max.ms": 5, "fetch.min.bytes": 1,
        })  # fmt: skip
        consumer = Consumer(config)
        topic = self.domain.anonymised_topic
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
        return consumer

    def measure(self, rate: int, warmup: float, seconds: float, rss_every: float) -> SteadyResult:
        """Start the worker, load it `warmup` s (not counted), then `seconds` s measured; stop it (SIGTERM)."""
        worker = self.start_worker()
        result = SteadyResult()
        sent_at: dict[bytes, float] = {}
        received: dict[bytes, float] = {}
        stop_reading = threading.Event()
        reader = self._reader()
        reader_thread = threading.Thread(target=self._read, args=(reader, received, stop_reading), daemon=True)
        reader_thread.start()
        producer = make_producer(self.settings, **{"linger.ms": 1})
        try:
            self._wait_until_running(worker, producer, received)
            progress(f"{self.group}: {rate} events/s, {warmup:g}s warm-up then {seconds:g}s measured")
            started = time.monotonic()
            measured_from = started + warmup
            next_rss = measured_from
            batches_before: int | None = None
            tick, n = 0.01, 0
            per_tick = rate * tick
            due = 0.0
            while (now := time.monotonic()) < measured_from + seconds:
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited ({worker.returncode}); see {self.data_dir / self.group}.log")
                due += per_tick
                while due >= 1:
                    event = self.events[n % len(self.events)]
                    event_id = f"{self.group}:{n}".encode()
                    if now >= measured_from:
                        sent_at[event_id] = time.perf_counter()
                    producer.produce(
                        self.domain.raw_topic, event.value, event.key, headers=[(EVENT_ID_HEADER, event_id)]
                    )
                    n, due = n + 1, due - 1
                producer.poll(0)
                if batches_before is None and now >= measured_from:
                    batches_before = committed_batches(self.metrics_port)
                if now >= next_rss:
                    result.rss_samples.append((round(now - measured_from, 1), worker_rss_mb(worker.pid)))
                    next_rss += rss_every
                    if len(result.rss_samples) % max(1, round(60 / rss_every)) == 0:  # a line a minute on long runs
                        elapsed, mb = result.rss_samples[-1]
                        progress(f"{self.group}: {elapsed / 60:.0f}/{seconds / 60:g} min, {n:,} produced, "
                                 f"{len(received):,} read, worker RSS {mb:.1f} MiB")  # fmt: skip
                time.sleep(max(0.0, started + (n / rate) - time.monotonic()))
            producer.flush(30)
            result.seconds = seconds
            if batches_before is not None:
                result.batches = committed_batches(self.metrics_port) - batches_before
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(k in received for k in sent_at):
                time.sleep(0.1)
        finally:
            stop_reading.set()
            reader_thread.join(10)
            reader.close()
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
        result.sent = len(sent_at)
        result.latencies_ms = [(received[k] - t) * 1000 for k, t in sent_at.items() if k in received]
        result.received = len(result.latencies_ms)
        return result

    def _wait_until_running(self, worker: subprocess.Popen[bytes], producer: Any, received: dict[bytes, float]) -> None:
        """A first event through the whole path: the worker has started, compiled and registered its schema."""
        probe = b"probe:" + self.group.encode()
        event = self.events[0]
        producer.produce(self.domain.raw_topic, event.value, event.key, headers=[(EVENT_ID_HEADER, probe)])
        producer.flush(10)
        deadline = time.monotonic() + 120
        while probe not in received:
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start; see {self.data_dir / self.group}.log")
            time.sleep(0.1)

    @staticmethod
    def _read(consumer: Consumer, received: dict[bytes, float], stop: threading.Event) -> None:
        while not stop.is_set():
            for msg in consumer.consume(1000, 0.05):
                if msg.error() is None:
                    now = time.perf_counter()
                    for name, value in msg.headers() or ():
                        if name == EVENT_ID_HEADER:
                            received.setdefault(value, now)
