"""How a batch's output and its input offsets are made durable together: at-least-once or exactly-once.

At-least-once (default): the idempotent producer sends the batch; `commit` flushes it and commits the
consumer's offsets ONLY if every record (outputs and DLQ) was acknowledged by the broker. Anything
unacknowledged raises `DeliveryFailed` before the commit, so a restart reads the batch again (duplicates
are possible after a crash, loss is not).

Exactly-once (`--exactly-once`): one transactional producer per worker; each batch is one transaction
holding every output record, every DLQ record AND the consumer offsets (`send_offsets_to_transaction`
with the consumer's group metadata, KIP-447, so fencing follows the consumer group generation rather
than fixed partitions). `transactional.id` is `deid-pipeline-<domain>-<instance>`: stable across
restarts of one worker instance, so a restarted worker aborts what its killed predecessor left open at
once (`init_transactions`) instead of waiting for the transaction timeout; two live workers of a domain
need different `--instance-id`s. A transaction the broker aborts raises `BatchAborted`: the worker
rewinds to the batch start and does it again. This needs the raw and the anonymised side on one cluster
(Kafka transactions do not span clusters). Readers of the outputs must use isolation.level=read_committed.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from deid.errors import ConfigError, DeidError
from deid.kafka import make_consumer, make_producer
from deid.settings import Settings

log = logging.getLogger(__name__)

# Throughput tuning of the output producer; a property in the config file's kafka_properties wins.
PRODUCER_TUNING: dict[str, Any] = {
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 1_000_000,
    "message.timeout.ms": 60_000,
    "delivery.report.only.error": True,  # a callback per failure only: no Python call per delivered record
}
FLUSH_SECONDS = 75.0  # > message.timeout.ms: every record has a report by then
TRANSACTION_SECONDS = 60.0
CALL_SECONDS = 10.0
"""One transactional call's timeout; a retriable failure (the broker restarting, a coordinator moving) is
tried again, for up to OUTAGE_SECONDS, before the worker gives up with a message."""
OUTAGE_SECONDS = 300.0
RETRY_SECONDS = 20.0
"""Retriable failures of one transaction beyond this: the producer is replaced (see ExactlyOnce._restart)."""
_REBALANCE_CODES = {KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID}


class DeliveryFailed(DeidError):
    """Records of a batch were not acknowledged; its offsets were not committed (nothing is lost)."""


class BatchAborted(Exception):
    """The batch's transaction was aborted; the worker rewinds and processes the batch again."""


def same_cluster(settings: Settings) -> bool:
    return settings.bootstrap_out == settings.kafka_bootstrap


def check_exactly_once(settings: Settings) -> None:
    """ConfigError unless both sides are one cluster (a Kafka transaction cannot span clusters)."""
    if not same_cluster(settings):
        raise ConfigError(
            "--exactly-once needs the raw and the anonymised side on ONE Kafka cluster (a transaction cannot "
            f"span clusters), but DEID_KAFKA_BOOTSTRAP ({settings.kafka_bootstrap}) differs from "
            f"DEID_KAFKA_BOOTSTRAP_OUT ({settings.bootstrap_out}); run without --exactly-once (at-least-once)"
        )


def transactional_id(domain: str, instance_id: str) -> str:
    return f"deid-pipeline-{domain}-{instance_id}"


def worker_consumer(
    settings: Settings, group: str, instance_id: str, report_ends: bool, session_timeout: float = 10.0
) -> Consumer:
    """The raw-side consumer of a worker: offsets only ever committed explicitly (after delivery), committed
    raw records only, static group membership (a restarted worker with the same instance id takes its
    partitions back at once, with no rebalance). A worker that dies and stays dead loses its partitions to
    the others once its session times out (`session_timeout` s, 10 by default: librdkafka's 45 s would leave
    them idle that long); a restart within that time keeps them."""
    return make_consumer(
        settings,
        group,
        "raw",
        **{
            "auto.offset.reset": "earliest",
            "enable.auto.offset.store": False,
            "enable.partition.eof": report_ends,
            "isolation.level": "read_committed",
            # Prefetch stays generous (librdkafka's 100k records per partition, capped at 32 MiB): with
            # 20k records / 16 MiB the worker was held at ~25k events/s waiting for fetches (bench, Nov 2026).
            "queued.max.messages.kbytes": 32_768,
            "group.instance.id": f"{group}-{instance_id}",
            "session.timeout.ms": int(session_timeout * 1000),
            "heartbeat.interval.ms": max(500, int(session_timeout * 1000) // 5),
        },
    )


class _Failures:
    """Delivery reports with an error (only those arrive: delivery.report.only.error)."""

    def __init__(self) -> None:
        self.reasons: dict[str, int] = {}

    def __call__(self, error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            self.reasons[error.str()] = self.reasons.get(error.str(), 0) + 1

    def take(self) -> dict[str, int]:
        reasons, self.reasons = self.reasons, {}
        return reasons


def _tuning(settings: Settings) -> dict[str, Any]:
    return {k: v for k, v in PRODUCER_TUNING.items() if k not in settings.kafka_properties}


def produce(producer: Producer, topic: str, value: bytes | None, key: bytes | None, headers: list[Any]) -> None:
    """Hand one record to the producer, serving delivery reports while its queue is full."""
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(0.05)


def rewind(consumer: Consumer, messages: list[Any]) -> None:
    """Seek each partition back to its first offset in `messages` (after an aborted transaction)."""
    first: dict[tuple[str, int], int] = {}
    for msg in messages:
        if msg.error() is None:
            first.setdefault((msg.topic(), msg.partition()), msg.offset())
    for (topic, partition), offset in first.items():
        try:
            consumer.seek(TopicPartition(topic, partition, offset))
        except KafkaException as exc:  # the partition moved to another worker meanwhile
            log.info("not rewinding %s [%s]: %s", topic, partition, exc.args[0].str())


class AtLeastOnce:
    def __init__(self, settings: Settings, consumer: Consumer, sizes: dict[str, int] | None = None) -> None:
        self.consumer = consumer
        self._failures = _Failures()
        tuning = {**_tuning(settings), **(sizes or {}), "enable.idempotence": True, "on_delivery": self._failures}
        self.producer = make_producer(settings, "out", **tuning)
        # DLQ records stay on the raw side: the same producer when both sides are one cluster.
        shared = same_cluster(settings) and not settings.kafka_properties_out
        self.dlq_producer = self.producer if shared else make_producer(settings, "raw", **tuning)

    def begin(self) -> None:
        pass

    def commit(self, offsets: list[TopicPartition]) -> None:
        for producer in {id(p): p for p in (self.producer, self.dlq_producer)}.values():
            left = producer.flush(FLUSH_SECONDS)
            if left:
                raise DeliveryFailed(
                    f"{left} record(s) not acknowledged within {FLUSH_SECONDS:g}s; offsets not committed "
                    "(a restart processes the batch again)"
                )
        failures = self._failures.take()
        if failures:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in failures.items())
            raise DeliveryFailed(f"records were not delivered: {reasons}; offsets not committed")
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() not in _REBALANCE_CODES:
                raise DeidError(f"committing offsets failed: {error.str()}") from None
            # The partitions moved to another worker, which reads the batch again: duplicates, no loss.
            log.warning("offsets not committed (%s): the group rebalanced; the batch will be read again", error.str())

    def abort(self) -> None:
        pass

    def close(self) -> None:
        for producer in {id(p): p for p in (self.producer, self.dlq_producer)}.values():
            producer.flush(FLUSH_SECONDS)


class ExactlyOnce:
    def __init__(
        self, settings: Settings, consumer: Consumer, domain: str, instance_id: str, sizes: dict[str, int] | None = None
    ) -> None:
        check_exactly_once(settings)
        self.consumer = consumer
        self.transactional_id = transactional_id(domain, instance_id)
        self._failures = _Failures()
        tuning = {**_tuning(settings), **(sizes or {}), "transactional.id": self.transactional_id}
        tuning["on_delivery"] = self._failures
        tuning["transaction.timeout.ms"] = int(TRANSACTION_SECONDS * 1000)
        self._settings, self._tuning = settings, tuning
        self._open = False
        self._new_producer(TRANSACTION_SECONDS)

    def _new_producer(self, timeout: float) -> None:
        """A transactional producer; `init_transactions` fences any earlier one of this id and aborts what it
        left open."""
        self.producer = make_producer(self._settings, "out", **self._tuning)
        self.dlq_producer = self.producer  # DLQ writes are part of the transaction
        try:
            self.producer.init_transactions(timeout)
        except KafkaException as exc:
            raise DeidError(f"could not start transactions ({self.transactional_id}): {exc.args[0].str()}") from None

    def _restart(self, reason: str, purge: bool = True) -> None:
        """After the broker went away mid-transaction, a producer whose transaction is stuck is replaced by a
        new one of the same transactional id (which aborts the open transaction), until the broker answers."""
        log.warning("%s: the transaction did not complete (%s); aborting it with a new producer, the batch will "
                    "be read again", self.transactional_id, reason)  # fmt: skip
        old, self._open = self.producer, False
        if purge:  # not while another thread is blocked inside one of its calls (see _send_offsets)
            old.purge()
        deadline = time.monotonic() + OUTAGE_SECONDS
        while True:
            try:
                self._new_producer(CALL_SECONDS)
                break
            except DeidError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        raise BatchAborted(reason)

    def begin(self) -> None:
        if not self._open:
            self.producer.begin_transaction()
            self._open = True

    def commit(self, offsets: list[TopicPartition]) -> None:
        self.begin()
        self._abort_if_refused()
        try:
            metadata = self.consumer.consumer_group_metadata()
            self._send_offsets(offsets, metadata)
            # A retriable commit failure leaves the commit in progress: calling it again completes it.
            self._retrying("committing", lambda: self.producer.commit_transaction(CALL_SECONDS))
        except KafkaException as exc:
            self._handle(exc.args[0])
        self._open = False

    def _send_offsets(self, offsets: list[TopicPartition], metadata: Any) -> None:
        """send_offsets_to_transaction, bounded by us: librdkafka's call can block past its timeout while the
        group coordinator is away or was restarted (confluentinc/librdkafka#5456, #5511; seen here after a
        broker kill -9). Past the bound, the stuck producer is left to its thread and fenced by a new one."""
        outcome: list[BaseException | None] = []

        def send() -> None:
            try:
                self.producer.send_offsets_to_transaction(offsets, metadata, CALL_SECONDS)
                outcome.append(None)
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)

        thread = threading.Thread(target=send, name="deid-send-offsets", daemon=True)
        thread.start()
        thread.join(CALL_SECONDS + 5)
        if thread.is_alive():
            self._restart(f"sending the offsets blocked for {CALL_SECONDS + 5:g}s", purge=False)
        if outcome[0] is not None:
            raise outcome[0]

    def _abort_if_refused(self) -> None:
        """A batch whose records the broker refused is aborted before its offsets join the transaction
        (they would only meet the doomed transaction's errors, retried as if the broker were away)."""
        self.producer.flush(CALL_SECONDS)
        failures = self._failures.take()
        if failures:
            self.abort()
            raise BatchAborted("; ".join(f"{reason} ({n})" for reason, n in failures.items()))

    def _retrying(self, what: str, call: Any) -> None:
        """`call()`, again while it fails with a retriable error (the broker away), for up to RETRY_SECONDS."""
        deadline, warned = time.monotonic() + RETRY_SECONDS, False
        while True:
            try:
                call()
                if warned:
                    log.info("%s: %s succeeded; the broker is back", self.transactional_id, what)
                return
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if not error.retriable() or error.txn_requires_abort() or time.monotonic() > deadline:
                    raise
                if not warned:
                    log.warning("%s: %s failed (%s); retrying until the broker answers", self.transactional_id,
                                what, error.str())  # fmt: skip
                    warned = True
                time.sleep(0.5)

    def _handle(self, error: KafkaError) -> None:
        if error.txn_requires_abort():
            self.abort()
            raise BatchAborted(error.str())
        if error.retriable():
            self._restart(error.str())
        self._open = False
        if error.fatal():
            raise DeidError(
                f"the transactional producer {self.transactional_id} failed: {error.str()} (another worker with the "
                "same --instance-id fenced this one?); nothing of the open batch was committed"
            )
        raise DeidError(f"the transaction of {self.transactional_id} failed: {error.str()}")

    def abort(self) -> None:
        if self._open:
            try:
                self._retrying("aborting", lambda: self.producer.abort_transaction(CALL_SECONDS))
            except KafkaException as exc:
                raise DeidError(f"aborting the transaction failed: {exc.args[0].str()}") from None
            self._open = False

    def close(self) -> None:
        self.abort()
