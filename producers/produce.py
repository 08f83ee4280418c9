"""The produce loop: send events to a topic fast, count every delivery report, say honestly what happened.

The producer is idempotent (retries never duplicate) and batches for throughput (linger, large batches,
lz4). Each event carries its id in the `event_id` header. A delivery counts as delivered only when the
broker acknowledged it; the summary and the exit code come from those reports, not from what was handed
to librdkafka.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from deid.events import EVENT_ID_HEADER
from deid.settings import Settings
from producers.sources import OutgoingEvent

# Throughput tuning; a property set in the config file's kafka_properties wins over these.
THROUGHPUT_TUNING: dict[str, Any] = {
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 500_000,
    # A delivery that cannot succeed is reported as failed after this long, so a run always ends.
    "message.timeout.ms": 60_000,
    # A report per failed event only: no Python call per acknowledged one (see ProduceStats.on_delivery).
    "delivery.report.only.error": True,
}
POLL_EVERY = 1000
PROGRESS_SECONDS = 0.2


def producer_overrides(settings: Settings) -> dict[str, Any]:
    """Properties for `deid.kafka.make_producer`: idempotence always, tuning unless configured otherwise."""
    tuning = {k: v for k, v in THROUGHPUT_TUNING.items() if k not in settings.kafka_properties}
    return {**tuning, "enable.idempotence": True}


@dataclass
class ProduceStats:
    produced: int = 0
    """Events sent (handed to the producer or refused by it): delivered + failed once flushed."""
    delivered: int = 0
    failed: int = 0
    """Delivery reports with an error, events the producer refused, and events still unconfirmed at the end."""
    bytes: int = 0
    """Value bytes of the events handed to the producer."""
    skipped: int = 0
    """Replayed lines that were not a JSON object."""
    seconds: float = 0.0
    interrupted: bool = False
    errors: dict[str, int] = field(default_factory=dict)
    """Failure reason (Kafka's error text, never a value) → count."""

    def fail(self, reason: str, count: int = 1) -> None:
        self.failed += count
        self.errors[reason] = self.errors.get(reason, 0) + count

    def on_delivery(self, error: KafkaError | None, _message: Message) -> None:
        """Failures only count here; `delivered` is set once the producer is flushed: every event it took was
        then either acknowledged or reported failed (flush returns 0 only then; what is left counts failed)."""
        if error is not None:
            self.fail(error.str())

    @property
    def events_per_second(self) -> float:
        return self.produced / self.seconds if self.seconds > 0 else 0.0


class Throttle:
    """Keeps the average rate at `rate` events/s: event n is not sent before start + n / rate."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.start = clock()

    def wait(self, sent: int) -> None:
        """Block until `sent` events are due; `sleep` may return early (it serves delivery reports)."""
        due = self.start + sent / self.rate
        while (remaining := due - self.clock()) > 0:
            self.sleep(remaining)


@contextmanager
def _sigint_as_flag() -> Iterator[threading.Event]:
    """Ctrl-C sets a flag instead of raising KeyboardInterrupt, which, raised inside librdkafka's poll or a
    delivery callback, surfaces as a SystemError. The loop checks the flag between events."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


class Progress:
    """A one-line progress bar redrawn in place on a terminal."""

    def __init__(self, stream: IO[str], total: int | None, label: str) -> None:
        self.stream, self.total, self.label = stream, total, label
        self.started = time.monotonic()
        self.next_draw = 0.0

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self.next_draw:
            return
        self.next_draw = now + PROGRESS_SECONDS
        rate = done / (now - self.started) if now > self.started else 0.0
        if self.total:
            filled = int(30 * min(done, self.total) / self.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {100 * done // self.total:3d}%  {done:,}/{self.total:,}"
        else:
            bar = f"{done:,}"
        self.stream.write(f"\r{self.label} {bar} events  {rate:,.0f} ev/s ")
        self.stream.flush()

    def close(self, done: int) -> None:
        self.update(done, force=True)
        self.stream.write("\n")
        self.stream.flush()


def _send(producer: Producer, topic: str, event: OutgoingEvent, stats: ProduceStats) -> bool:
    """Hand one event to the producer, waiting while its queue is full. A refused event counts as failed;
    False when the producer can send nothing more (a fatal error)."""
    headers = [(EVENT_ID_HEADER, event.event_id.encode())]
    while True:
        try:
            producer.produce(topic, event.value, event.key, headers=headers, on_delivery=stats.on_delivery)
            return True
        except BufferError:  # queue full: serve delivery reports until there is room
            producer.poll(0.05)
        except KafkaException as exc:  # refused before sending, e.g. larger than message.max.bytes
            error: KafkaError = exc.args[0]
            stats.fail(error.str())
            return not error.fatal()


def produce_events(
    producer: Producer,
    topic: str,
    events: Iterable[OutgoingEvent],
    *,
    stats: ProduceStats | None = None,
    rate: float | None = None,
    progress: Progress | None = None,
    truth: IO[str] | None = None,
    flush_seconds: float = THROUGHPUT_TUNING["message.timeout.ms"] / 1000 + 15,
) -> ProduceStats:
    """Send `events` to `topic` and wait for every delivery report (at most `flush_seconds` after the last
    send). `truth` receives `{"event_id", "spans"}` lines for events that carry PII spans. Ctrl-C stops
    sending, the events already sent are still flushed, and `stats.interrupted` says so."""
    stats = stats or ProduceStats()
    throttle = Throttle(rate, sleep=producer.poll) if rate else None
    started = time.perf_counter()
    with _sigint_as_flag() as stop:
        try:
            for event in events:
                if stop.is_set():
                    stats.interrupted = True
                    break
                if throttle is not None:
                    throttle.wait(stats.produced)
                can_go_on = _send(producer, topic, event, stats)
                stats.produced += 1
                stats.bytes += len(event.value)
                if not can_go_on:
                    break
                if truth is not None and event.spans is not None:
                    truth.write(json.dumps({"event_id": event.event_id, "spans": event.spans}) + "\n")
                if stats.produced % POLL_EVERY == 0:
                    producer.poll(0)
                    if progress is not None:
                        progress.update(stats.produced)
                elif throttle is not None and progress is not None:  # slow runs redraw between polls too
                    progress.update(stats.produced)
        except KeyboardInterrupt:  # off the main thread Ctrl-C still raises
            stats.interrupted = True
        _flush(producer, stats, flush_seconds)
    stats.seconds = time.perf_counter() - started
    if progress is not None:
        progress.close(stats.produced)
    return stats


def _flush(producer: Producer, stats: ProduceStats, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if producer.flush(min(left, 1.0)) == 0:
            break
    unconfirmed = len(producer)
    if unconfirmed:
        stats.fail(f"no delivery report within {seconds:g}s", unconfirmed)
    stats.delivered = stats.produced - stats.failed
