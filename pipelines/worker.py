"""The per-domain de-identification worker: consume raw JSON, apply the policy, produce Avro, commit.

One consumer-group member (group `deid-pipeline-<domain>`; run N for N partitions) reads
`<domain>-raw-data` a batch at a time. Per batch it decodes every record (bad ones → DLQ, `dlq.py`),
fetches missing per-subject keys in one keystore call, applies the compiled plan, encodes each output
with its registered schema, produces to `<domain>-anonymised-data` and the purpose topics (out side) with
the raw event id and the policy version as headers, then makes outputs and offsets durable together
(`delivery.py`). The output key is a keyed hash of the raw key (usually the subject id in clear): one
subject still maps to one partition, and the key reveals nothing.

The policy is compiled once per version. The worker asks its PolicySource every few seconds and switches
between two batches when a new version is published; a version that cannot be compiled or registered is
logged and the running one kept. A rotated shared encrypt key (`deid keys rotate`) is noticed within a
minute (`key_watch.py`) and the same policy compiled again with it. SIGTERM/SIGINT (`stop()`): the batch
in hand is finished and committed, then the worker exits cleanly.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from types import NoneType
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from sqlalchemy.exc import SQLAlchemyError

from deid.domains import Domain, DomainSource, load_registry
from deid.errors import ConfigError, DeidError
from deid.events import EVENT_ID_HEADER
from deid.kafka import make_registry_client, reachable_admin
from deid.settings import Settings
from pipelines.batch_size import BatchSizer
from pipelines.catch_up import CatchUp
from pipelines.delivery import (
    AtLeastOnce,
    BatchAborted,
    ExactlyOnce,
    check_exactly_once,
    produce,
    rewind,
    same_cluster,
    worker_consumer,
)
from pipelines.dlq import (
    Rejection,
    decode_records,
    dlq_headers,
    envelope,
    event_id_bytes,
)
from pipelines.in_flight import InFlight
from pipelines.key_watch import SharedKeyWatcher
from pipelines.keys import Keystore, KeystoreError
from pipelines.limits import DEFAULT_MAX_RECORD_BYTES, oversize_reason, record_size
from pipelines.metrics import MetricsServer, PipelineMetrics
from pipelines.outputs import ensure_topics, partition_count
from pipelines.plan import compile_policy
from pipelines.policy_source import (
    DEFAULT_POLL_SECONDS,
    LineageSink,
    LoggingSink,
    PipelineLineage,
    PolicySource,
    PolicyWatcher,
)
from pipelines.recovery import ConsumerFenced, FenceGuard, KeystoreWait, close_quietly, open_worker_keystore
from pipelines.risk import DEFAULT_WINDOW, KSuppressor, risk_window_for
from pipelines.summary import Summary
from pipelines.transforms.anonymize_text import TextAnalysis
from pipelines.transforms.fastcrypto import KeyedHmac
from pipelines.treat import treat_batch
from pipelines.worker_policy import PolicyBinding

log = logging.getLogger(__name__)
RECORD_KEY = "record_key.default"
"""Keystore secret of the output record keys (keyed hash of the raw key)."""
MAX_ABORTS_IN_A_ROW = 5
_KEY_CACHE = 100_000
KEYSTORE_OUTAGES = (SQLAlchemyError, KeystoreError, OSError)
"""What a keystore that is away raises; anything else is a bug, which stops the worker rather than hold it forever."""
RISK_REPORT_SECONDS = 1.0
"""How often the risk report is recomputed (a pass over the classes): not per batch; once more at the end."""


@dataclass
class WorkerOptions:
    domain: str
    exactly_once: bool = False
    until_caught_up: bool = False
    batch_size: int = 20_000
    """The most records per batch; fewer when records are slow to treat (`batch_seconds`)."""
    batch_seconds: float = 0.5
    """A batch under backlog aims at this much work (`pipelines.batch_size`); 0: always `batch_size`."""
    metrics_port: int | None = None
    policy_poll_seconds: float = DEFAULT_POLL_SECONDS
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    group_id: str | None = None
    """Default `deid-pipeline-<domain>`."""
    instance_id: str = "0"
    """This worker among the domain's workers: its static group membership and transactional producer.
    Unique per live worker; the same after a restart (it then takes over at once and fences the old one)."""
    consume_timeout: float = 0.5
    risk_window: int = DEFAULT_WINDOW
    """Records in the re-identification risk window (0: off); used when the domain names quasi-identifiers."""
    session_timeout_seconds: float = 10.0
    """A worker that stops heartbeating (killed, hung) loses its partitions to the others after this long."""


class Worker(PolicyBinding):
    def __init__(
        self,
        settings: Settings,
        options: WorkerOptions,
        source: PolicySource,
        lineage: LineageSink | None = None,
        keystore: Keystore | None = None,
        compile_plan: Any = None,
        domains: DomainSource | None = None,
    ) -> None:
        self.settings, self.options, self.source = settings, options, source
        self.lineage: LineageSink = lineage or LoggingSink()
        # The shell passes the catalog's domains (catalog.domain_api.CatalogDomains); a worker given none runs
        # on the settings' seed (policy as code: `--policy-file`, tests, benchmarks).
        self.domain: Domain = (domains or load_registry(settings)).get(options.domain)
        # The plan compiler gets this worker's NLP engine (anonymize_text), never the environment's.
        self.compile_plan = compile_plan or partial(compile_policy, text_analysis=TextAnalysis(settings))
        self.summary = Summary(self.domain.name)
        self.sizer = BatchSizer(options.batch_size, options.batch_seconds)
        self.metrics = PipelineMetrics(self.domain.name)
        self.risk = risk_window_for(self.domain, options.risk_window)
        self.suppressors: dict[str, KSuppressor] = {}
        self._risk_reported = float("-inf")
        self.catch_up = CatchUp() if options.until_caught_up else None
        self._stopping = False
        self._keystore = keystore
        self._owns_keystore = keystore is None
        self._reported_uncovered: set[str] = set()
        self._rejected_version: int | None = None
        self._aborts = 0
        self.in_flight: InFlight | None = None
        """The batch produced and not committed yet (pipelines/in_flight.py)."""
        self._keystore_wait = KeystoreWait(self.domain.name)
        self._fences = FenceGuard(self.domain.raw_topic, options.instance_id)
        if options.exactly_once:
            check_exactly_once(settings)  # before anything connects

    def stop(self) -> None:
        """Finish the batch in hand, commit it and return from `run` (safe from a signal handler)."""
        self._stopping = True

    # --- start ---

    def _start(self) -> None:
        domain, settings = self.domain, self.settings
        policy = self.source.latest_published(domain.name)
        if policy is None:
            raise ConfigError(
                f"domain {domain.name!r} has no published policy in {self.source.describe()}; the worker does not "
                "start without one (publish a policy in the catalog, or pass --policy-file with a reviewed policy)"
            )
        self._keystore, record_key = open_worker_keystore(settings, self._keystore, RECORD_KEY)
        self._record_key = KeyedHmac(record_key).digest
        self._keys: dict[bytes, bytes] = {}
        self.raw_admin = reachable_admin(settings, "raw")
        self.out_admin = self.raw_admin if same_cluster(settings) else reachable_admin(settings, "out")
        partitions = partition_count(self.raw_admin, domain.raw_topic)
        if partitions is None:
            raise DeidError(
                f"topic {domain.raw_topic} does not exist on the raw side; produce events first (`deid produce "
                f"{domain.name}`) or create the domain's topics (`deid topics create {domain.name}`)"
            )
        self._partitions = partitions
        ensure_topics(self.raw_admin, [domain.dlq_topic], partitions)
        self.registry = make_registry_client(settings)
        self.watcher = PolicyWatcher(self.source, domain.name, policy, self.options.policy_poll_seconds)
        self.key_watcher = SharedKeyWatcher(self._keystore, domain.name)
        self._activate(policy)
        self.consumer = self._subscribed_consumer()
        sizes = self.limits.producer_config()
        if self.options.exactly_once:
            self.delivery: AtLeastOnce | ExactlyOnce = ExactlyOnce(
                settings, self.consumer, domain.name, self.options.instance_id, sizes
            )
        else:
            self.delivery = AtLeastOnce(settings, self.consumer, sizes)
        if self.options.metrics_port is not None:
            self._metrics_server = MetricsServer(self.metrics, self.options.metrics_port).start()
            self.summary.metrics_port = self._metrics_server.port
            log.info("metrics on http://127.0.0.1:%d/metrics", self._metrics_server.port)

    def _subscribed_consumer(self) -> Any:
        group = self.options.group_id or f"deid-pipeline-{self.domain.name}"
        consumer = worker_consumer(
            self.settings, group, self.options.instance_id, self.catch_up is not None,
            self.options.session_timeout_seconds,
        )  # fmt: skip
        callbacks: dict[str, Any] = {"on_revoke": self._on_revoke, "on_lost": self._on_lost}
        if self.catch_up is not None:
            callbacks["on_assign"] = self.catch_up.on_assign
        consumer.subscribe([self.domain.raw_topic], **callbacks)
        return consumer

    def _replace_consumer(self, reason: str) -> None:
        """A fenced consumer (see recovery.py) replaced by a new one, which resumes from the committed offsets."""
        self._fences.replacing(reason)
        self.in_flight = None  # the new consumer reads it again from the committed offsets
        self.delivery.abort()
        close_quietly(self.consumer)
        self.consumer = self.delivery.consumer = self._subscribed_consumer()

    # --- run ---

    def run(self) -> Summary:
        self._started = time.perf_counter()
        self._first_record: float | None = None
        self._start()
        gc.freeze()  # what start-up built lives as long as the worker: out of every later collection
        try:
            while not self._stopping:
                if self.catch_up is not None and self.catch_up.finished():
                    break
                messages = self._next_batch()
                try:
                    if messages:
                        self._batch(messages)
                    else:
                        self._batch(None)  # nothing waiting: commit the batch in flight now
                except ConsumerFenced as exc:
                    self._replace_consumer(str(exc))
                if not messages:
                    self._report_risk()  # idle: the last batches' risk shows within a second
                self._maybe_switch_policy()
                self.lineage.retry_pending()
        except KafkaException as exc:  # one line naming the Kafka failure, not an exception class
            error: KafkaError = exc.args[0]
            raise DeidError(
                f"{self.domain.name}: Kafka failed ({error.name()}: {error.str()}); nothing uncommitted was lost, "
                "restart the worker (it resumes from the last committed batch)"
            ) from None
        finally:
            self._close()
        return self.summary

    def _next_batch(self) -> list[Message]:
        """What the consumer already holds (up to a batch), without waiting; else the first record to arrive
        and whatever came with it. Batches grow with the load, and a record never waits for a full batch."""
        size, consume = self.sizer.next_size(), self.consumer.consume
        messages = consume(size, 0)
        if messages or self.in_flight is not None:  # never wait with a batch in flight: it is committed first
            return messages
        messages = consume(1, self.options.consume_timeout)
        if messages and size > 1:
            messages.extend(consume(size - 1, 0))
        return messages

    def _close(self) -> None:
        for step in (
            lambda: self._batch(None),  # the batch in flight, if any
            lambda: self.delivery.close(),
            lambda: self.consumer.close(),
            lambda: self._metrics_server.stop(),
            lambda: self._keystore.close() if self._keystore and self._owns_keystore else None,
            lambda: self.lineage.pipeline_stopped(self._with_risk(self._lineage)),
        ):
            try:
                step()
            except AttributeError:
                pass  # never started
            except Exception as exc:
                log.warning("while closing: %s", type(exc).__name__)

    def _report_risk(self, final: bool = False) -> None:
        """Summary and metrics get the risk window's report, at most every RISK_REPORT_SECONDS (and when `final`)."""
        now = time.monotonic()
        if self.risk is None or (not final and now - self._risk_reported < RISK_REPORT_SECONDS):
            return
        self._risk_reported = now
        self.summary.risk = self.risk.report()
        self.metrics.set_risk(self.summary.risk)
        if self.suppressors:
            main = self.suppressors.get(self.domain.anonymised_topic)
            self.summary.k_suppressed = main.suppressed if main is not None else 0
            self.metrics.set_k_suppressed({topic: s.suppressed for topic, s in self.suppressors.items()})

    def _with_risk(self, lineage: PipelineLineage) -> PipelineLineage:
        """The lineage with the risk window's last report (the catalog shows it beside the policy)."""
        self._report_risk(final=True)
        report = self.summary.risk
        return replace(lineage, risk=report.to_json()) if report is not None and report.records else lineage

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        try:
            self._commit_in_flight()  # still this worker's partitions: commit what was produced from them
        except Exception as exc:  # not committed: the new owner reads the batch again (duplicates, no loss)
            log.warning("batch in flight not committed before a rebalance (%s); it will be read again", exc)
        self._forget(consumer, partitions)

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._drop_in_flight()  # another worker owns the partitions already: no commit for them from here
        self._forget(consumer, partitions)

    def _forget(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        if self.catch_up is not None:
            self.catch_up.on_revoke(consumer, partitions)
        self.metrics.forget_partitions(tp.partition for tp in partitions)

    def _batch(self, messages: list[Message] | None) -> None:
        """Process one batch (None: only commit the batch in flight). An aborted transaction rewound the
        consumer to the batch start: the next consume reads it again (from the partitions still assigned)."""
        gc.disable()  # a batch allocates ~10 objects a record, nearly all freed at its end: no cycle to hunt
        try:
            started = time.perf_counter()
            if messages is None:
                self._commit_in_flight()
                return
            self._process(messages)
            self.sizer.observe(len(messages), time.perf_counter() - started)
            self._aborts = 0
        except BatchAborted as exc:
            self._aborts += 1
            if self._aborts >= MAX_ABORTS_IN_A_ROW:
                raise DeidError(f"{self._aborts} transactions in a row were aborted (last: {exc}); stopping") from None
            log.warning("transaction aborted (%s); the batch will be read again", exc)
        finally:
            gc.enable()

    def _process(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        ends: list[tuple[int, int]] = []
        errors = list(map(Message.error, messages))  # the batch a column at a time: no Python step per record
        if set(map(type, errors)) - {NoneType}:  # consumer events (partition ends, errors) among the records
            # (by type: KafkaError's == against None leaves a TypeError pending in the interpreter)
            for msg, error in zip(messages, errors, strict=True):
                if error is not None:
                    self._consumer_event(msg, ends)
            messages = [msg for msg, error in zip(messages, errors, strict=True) if error is None]
        last = dict(zip(map(Message.partition, messages), map(Message.offset, messages), strict=True))
        # ↑ partition → its last offset in this batch (a partition's records come in offset order)
        records, failed = decode_records(list(map(Message.value, messages)), self.options.max_record_bytes)
        sources = messages  # the decoded records and the messages they came from, in step
        rejected: list[tuple[Message, Rejection]] = [(messages[index], rejection) for index, rejection in failed]
        if failed:
            refused = {index for index, _ in failed}
            sources = [msg for index, msg in enumerate(messages) if index not in refused]
        records_in = len(messages)
        if not last:
            self._ends_reached(ends)
            return
        if self._first_record is None:
            self._first_record = started
            self.summary.startup_seconds = started - self._started
        plan, overlap = self.plan, not self.suppressors  # see in_flight.py
        if not self._prefetch_keys(plan, records, messages):
            self._commit_in_flight()
            return
        plan.prepare_batch(records)  # e.g. anonymize_text: one analyzer pass per batch
        skipped_before = [p.skipped for p in plan.purposes]
        observe = self.risk.observe if self.risk is not None else None
        treated = treat_batch(
            plan, self.encoders, self.domain.anonymised_topic, records, want_records=observe is not None,
            suppressors=self.suppressors,
        )  # fmt: skip
        self._commit_in_flight(also_rewind=messages)  # the batch before, delivered while this one was treated
        self.delivery.begin()
        out_by_topic = self._send(sources, treated, rejected, observe)
        for msg, rejection in rejected:
            self._dead_letter(msg, rejection)
        offsets = [TopicPartition(self.domain.raw_topic, p, offset + 1) for p, offset in last.items()]
        self.in_flight = InFlight(
            messages, offsets, plan, records_in, last, ends, out_by_topic, rejected, skipped_before, started
        )
        if not overlap:
            self._commit_in_flight()

    def _commit_in_flight(self, also_rewind: list[Message] | None = None) -> None:
        """Commit the batch in flight (its outputs and offsets), if any. If the commit fails, the consumer goes
        back to its first records and `also_rewind`'s (a batch treated after it, never produced)."""
        batch, self.in_flight = self.in_flight, None
        if batch is None:
            return
        try:
            self.delivery.commit(batch.offsets)
        except BatchAborted:
            for purpose, before in zip(batch.plan.purposes, batch.skipped_before, strict=True):
                purpose.skipped = before
            for suppressor in self.suppressors.values():
                suppressor.abort_batch()
            rewind(self.consumer, batch.messages + (also_rewind or []))
            raise
        for suppressor in self.suppressors.values():
            suppressor.commit_batch()
        self._committed(batch, time.perf_counter() - batch.started)

    def _before_switch(self) -> None:
        """A batch in flight is committed under the plan it was treated with, before the switch."""
        if self.in_flight is not None:
            try:
                self._batch(None)
            except ConsumerFenced as exc:
                self._replace_consumer(str(exc))

    def _drop_in_flight(self) -> None:
        """Forget the batch in flight uncommitted (its partitions are gone): whoever owns them reads it again."""
        if self.in_flight is not None:
            self.in_flight = None
            self.delivery.abort()

    def _prefetch_keys(self, plan: Any, records: list[dict[str, Any]], messages: list[Message]) -> bool:
        """The batch's per-subject keys, or False after rewinding: while the keystore cannot give them, the
        batch waits (read again after a pause), so a record never goes out without its key."""
        try:
            plan.prefetch_subject_keys(records)
        except KEYSTORE_OUTAGES as exc:  # the keystore's database unreachable, locked, …: wait, never emit
            rewind(self.consumer, messages)
            self._keystore_wait.failed(exc, len(records), lambda: self._stopping)
            return False
        self._keystore_wait.succeeded()
        return True

    def _send(
        self,
        sources: list[Message],
        treated: list[Any],
        rejected: list[tuple[Message, Rejection]],
        observe: Callable[[dict[str, Any]], Any] | None,
    ) -> dict[str, int]:
        """Produce each treated record's outputs (the hot loop); failures join `rejected`."""
        producer, main_topic = self.delivery.producer, self.domain.anonymised_topic
        version_header, event_id = self._version_header, EVENT_ID_HEADER
        only_version = [version_header]
        send, single = producer.produce, not self.plan.purposes
        out_by_topic: dict[str, int] = {}
        written = 0
        keys, new_key = self._keys, self._new_key
        room = {topic: self.limits.fits(topic) for topic in self.encoders}
        main_room = room[main_topic] - 256  # key and headers are a few dozen bytes: near it, the exact size decides
        for msg, result in zip(sources, treated, strict=True):
            if type(result) is Rejection:
                rejected.append((msg, result))
                continue
            main, pairs = result  # type: ignore[misc]
            headers = only_version  # shared: produce copies the headers it is given
            for header in msg.headers() or ():
                if header[0] == event_id:
                    headers = [header, version_header]
                    break
            raw_key = msg.key()
            key = None if raw_key is None else keys.get(raw_key) or new_key(raw_key)
            near = len(pairs[0][1]) > main_room if single else any(len(v) + 256 > room[t] for t, v in pairs)
            if near and (why := oversize_reason(pairs, key, headers, room)):
                rejected.append((msg, Rejection("too_large_output", why)))
                continue
            if observe is not None:
                observe(main)  # the quasi-identifiers as they leave (an aborted batch counts twice: an estimate)
            try:
                for topic, value in pairs:
                    try:
                        send(topic, value, key, headers=headers)
                    except BufferError:
                        produce(producer, topic, value, key, headers)
                    if not single:
                        out_by_topic[topic] = out_by_topic.get(topic, 0) + 1
            except KafkaException as exc:  # refused before it left (size, state): the input goes to the DLQ
                rejected.append((msg, Rejection("refused", f"the producer refused the output: {exc.args[0].str()}")))
                continue
            written += 1
        if single:
            out_by_topic[main_topic] = written
        return out_by_topic

    def _new_key(self, raw_key: bytes) -> bytes:
        """The output key of a raw key not cached yet: 32 hex digits of its keyed hash."""
        if len(self._keys) >= _KEY_CACHE:
            self._keys.clear()
        key = self._keys[raw_key] = self._record_key(raw_key)[:16].hex().encode()
        return key

    def _dead_letter(self, msg: Message, rejection: Rejection) -> None:
        headers = dlq_headers(
            rejection, msg.topic(), msg.partition(), msg.offset(), event_id_bytes(msg.headers()), self.policy.version
        )
        value, key = msg.value(), msg.key()
        room = self.limits.fits(self.domain.dlq_topic)
        if record_size(value, key, headers) > room:  # it cannot go as it came: a bounded envelope instead
            value, key, headers = envelope(value, key, headers, room)
        produce(self.delivery.dlq_producer, self.domain.dlq_topic, value, key, headers)

    def _consumer_event(self, msg: Message, ends: list[tuple[int, int]]) -> None:
        error: KafkaError = msg.error()
        if error.code() == KafkaError._PARTITION_EOF:
            ends.append((msg.partition(), msg.offset()))
        elif error.fatal() or error.code() in {KafkaError._FATAL, KafkaError.FENCED_INSTANCE_ID, KafkaError._FENCED}:
            raise ConsumerFenced(error.str())
        else:
            log.warning("consumer of %s: %s", self.domain.raw_topic, error.str())

    def _ends_reached(self, ends: list[tuple[int, int]]) -> None:
        if self.catch_up is not None:
            for partition, offset in ends:
                self.catch_up.end_reached(partition, offset)

    def _committed(self, batch: InFlight, seconds: float) -> None:
        summary, plan, records_in, last = self.summary, batch.plan, batch.records_in, batch.last
        out_by_topic, rejected, ends = batch.out_by_topic, batch.rejected, batch.ends
        skipped_before = batch.skipped_before
        dlq_by_class = Counter(rejection.error_class for _, rejection in rejected)
        skipped = {p.name: p.skipped - before for p, before in zip(plan.purposes, skipped_before, strict=True)}
        written = {p.name: out_by_topic.get(p.topic, 0) for p in plan.purposes}
        summary.add_batch(records_in, out_by_topic.get(self.domain.anonymised_topic, 0), dlq_by_class, written, skipped)
        self.metrics.batch_committed(records_in, out_by_topic, dlq_by_class, skipped, seconds)
        self._report_risk()
        if self._first_record is not None:
            summary.seconds = time.perf_counter() - self._first_record
        lags = {}
        for partition, offset in last.items():
            if self.catch_up is not None:
                self.catch_up.committed(partition, offset + 1)
            _, high = self.consumer.get_watermark_offsets(TopicPartition(self.domain.raw_topic, partition), cached=True)
            if high >= 0:
                lags[partition] = max(0, high - offset - 1)
        self.metrics.set_lag(lags)
        self._ends_reached(ends)
        new = plan.uncovered - self._reported_uncovered
        if new:
            self._reported_uncovered |= new
            summary.uncovered = sorted(self._reported_uncovered)
            self.metrics.set_state(uncovered=len(self._reported_uncovered))
            self.lineage.uncovered_fields(self.domain.name, sorted(new))
