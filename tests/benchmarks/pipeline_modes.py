"""What each mode of the pipeline benchmark runs, in its own spawned process (see bench_pipeline.py).

`run_worker` runs the real `Worker` until caught up (passthrough, deid, naive, …); `run_kafka_copy` is the
floor with Kafka: the worker's consumer and at-least-once delivery, a batch at a time, every record's raw
bytes, key and headers produced unchanged to another topic, no decode; `run_decode_encode` is the floor
without Kafka: JSON decode and Avro encode of the same events, nothing else. Every runner puts one dict
(records, eps, seconds, cpu_us_per_event, peak_rss_mb, started/ended wall clock) on the results queue.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, TopicPartition
from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.worker import Worker, WorkerOptions

CHANNEL_RULES: dict[str, Any] = {
    "channel_name": {"treatment": "keep"},
    "tv_show": {"treatment": "keep"},
    "tv_show_type": {"treatment": "keep"},
    "date": {"treatment": "date_shift", "params": {"max_days": 30}},
    "user_id": {"treatment": "encrypt"},
}
COPY_TOPIC = "channel-copy-data"
"""Where kafka_copy writes (created by the bench with the raw topic's partition count)."""
SEED = 7
"""The channel generator's seed: the bench produces these events, decode_encode generates them again."""


def policy_for(mode: str) -> Policy:
    rules = dict(CHANNEL_RULES)
    if mode == "passthrough" or mode == "decode_encode":
        rules = {name: {"treatment": "keep"} for name in rules}
    elif mode.startswith("deid_subject_keys"):
        rules["user_id"] = {"treatment": "encrypt", "params": {"key_scope": "subject"}}
    return Policy(domain="channel", version=1, status="published", rules=rules)


class NaivePlan:
    """The original demo's treatment: a Presidio AnonymizerEngine call per PII field per record."""

    def __init__(self, policy: Policy, domain: Any, keystore: Any) -> None:
        from datetime import datetime, timedelta

        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        self.version, self.topic, self.purposes, self.uncovered = policy.version, domain.anonymised_topic, [], set()
        self._engine, self._result = AnonymizerEngine(), RecognizerResult
        fernet = Fernet(Fernet.generate_key())

        def shift(value: str) -> str:
            return (datetime.strptime(value, "%d-%m-%Y") + timedelta(days=7)).strftime("%d-%m-%Y")

        self._operators = {
            "user_id": {"USER_ID": OperatorConfig("custom", {"lambda": lambda v: fernet.encrypt(v.encode()).decode()})},
            "date": {"DATE_TIME": OperatorConfig("custom", {"lambda": shift})},
        }
        self._entities = {"user_id": "USER_ID", "date": "DATE_TIME"}

    def prefetch_subject_keys(self, _records: Any) -> int:
        return 0

    def prepare_batch(self, _records: Any) -> None:
        return None

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        out = {k: record.get(k) for k in ("channel_name", "tv_show", "tv_show_type")}
        for name, entity in self._entities.items():
            value = record[name]
            result = self._result(entity_type=entity, start=0, end=len(value), score=1.0)
            out[name] = self._engine.anonymize(value, [result], self._operators[name]).text
        return out

    def treat_columns(self, _records: Any) -> None:
        return None  # not column by column: record by record, through apply_batch

    def apply_batch(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.apply(record) for record in records]

    def outputs(self, record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(self.topic, self.apply(record))]


class SteadyWorker(Worker):
    """The Worker, noting its CPU time when the first batch arrives: start-up is not counted per event (as
    events/s count from the first record too)."""

    cpu_at_first_batch = 0.0

    def _process(self, messages: Any) -> None:
        if not self.cpu_at_first_batch:
            self.cpu_at_first_batch = cpu_seconds()
        super()._process(messages)


def run_worker(
    mode: str, group: str, settings: dict[str, Any], subjects: list[str], results: Any, instance: str = "0",
    barrier: Any = None,
) -> None:  # fmt: skip
    """One worker run until caught up; `barrier` (deid_x2): start together with the other worker."""
    from pipelines.keys import LocalKeystore
    from pipelines.plan import compile_policy
    from pipelines.policy_source import StaticPolicySource

    if mode == "deid_subject_keys_cold":  # a keystore of its own: no subject has a key yet
        settings = {**settings, "data_dir": str(Path(settings["data_dir"]) / group)}
    worker_settings = Settings(**settings)
    keystore = LocalKeystore.open(worker_settings)

    def compile_warm(policy: Policy, domain: Any, keystore: Any) -> Any:
        plan = compile_policy(policy, domain, keystore)
        plan.prefetch_subject_keys([{"user_id": subject} for subject in subjects])  # created once, now cached
        return plan

    compile_plan = {"naive": NaivePlan, "deid_subject_keys": compile_warm}.get(mode, compile_policy)
    exactly_once = mode in {"deid_eos", "deid_x2"}
    options = WorkerOptions(
        domain="channel", until_caught_up=True, group_id=group, exactly_once=exactly_once, instance_id=instance
    )
    worker = SteadyWorker(
        worker_settings, options, StaticPolicySource(policy_for(mode)), keystore=keystore, compile_plan=compile_plan
    )
    if barrier is not None:
        barrier.wait(timeout=120)
    started = time.time()
    summary = worker.run()
    cpu = cpu_seconds() - worker.cpu_at_first_batch if worker.cpu_at_first_batch else 0.0  # no batch, no cost
    keystore.close()
    first = started + summary.startup_seconds
    results.put(mode_result(mode, summary.records_in, summary.seconds, cpu, first, first + summary.seconds))


def run_kafka_copy(group: str, settings: dict[str, Any], raw_topic: str, results: Any) -> None:
    """The floor with Kafka: consume raw bytes, produce them unchanged, the worker's commits (at-least-once)."""
    from pipelines.catch_up import CatchUp
    from pipelines.delivery import AtLeastOnce, worker_consumer

    worker_settings = Settings(**settings)
    consumer = worker_consumer(worker_settings, group, "0", True)
    catch_up = CatchUp()
    consumer.subscribe([raw_topic], on_assign=catch_up.on_assign, on_revoke=catch_up.on_revoke)
    delivery = AtLeastOnce(worker_settings, consumer)
    send, consume = delivery.producer.produce, consumer.consume
    size = WorkerOptions("channel").batch_size  # the worker's ceiling: a copy costs too little per record to shrink
    cpu_before, first, records = 0.0, 0.0, 0
    while not catch_up.finished():
        messages = consume(size, 0)  # as Worker._next_batch: what is there, else the first to arrive
        if not messages:
            messages = consume(1, 0.5)
            messages.extend(consume(size - 1, 0) if messages else ())
        last: dict[int, int] = {}
        for msg in messages:
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    catch_up.end_reached(msg.partition(), msg.offset())
                continue
            last[msg.partition()] = msg.offset()
            records += 1
            send(COPY_TOPIC, msg.value(), msg.key(), headers=msg.headers())
        if not last:
            continue
        if not first:
            first, cpu_before = time.time(), cpu_seconds()
        delivery.commit([TopicPartition(raw_topic, p, offset + 1) for p, offset in last.items()])
        for partition, offset in last.items():
            catch_up.committed(partition, offset + 1)
    ended = time.time()
    delivery.close()
    consumer.close()
    results.put(mode_result("kafka_copy", records, ended - first, cpu_seconds() - cpu_before, first, ended))


def run_decode_encode(count: int, results: Any) -> None:
    """The floor without Kafka: JSON decode and Avro encode (the passthrough schema) of the same events."""
    from pipelines.avro import ConfluentAvroEncoder, anonymised_schema
    from pipelines.dlq import decode_record
    from producers.channel import ChannelGenerator
    from producers.sources import generated_events

    domain = load_registry().get("channel")
    values = [event.value for event in generated_events(ChannelGenerator(domain, SEED), count, domain.subject_field)]
    encode = ConfluentAvroEncoder(anonymised_schema(domain, policy_for("decode_encode")), 1).encode
    cpu_before, started = cpu_seconds(), time.time()
    for value in values:
        encode(decode_record(value))
    ended = time.time()
    results.put(mode_result("decode_encode", count, ended - started, cpu_seconds() - cpu_before, started, ended))


def mode_result(
    mode: str, records: int, seconds: float, cpu: float, first: float, ended: float, peak_rss_mb: float | None = None
) -> dict[str, Any]:
    """One mode's figures (events/s, CPU µs per event, peak RSS: this process's unless given)."""
    return {
        "mode": mode,
        "records": records,
        "eps": round(records / seconds, 1) if seconds > 0 else 0.0,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "cpu_us_per_event": round(cpu / max(1, records) * 1e6, 2),
        "peak_rss_mb": peak_rss_of_this_image_mb() if peak_rss_mb is None else peak_rss_mb,
        "first": first,
        "ended": ended,
    }


def peak_rss_of_this_image_mb() -> float:
    """VmHWM: the peak resident set since this process exec'd. (getrusage's ru_maxrss keeps the high-water
    mark of the forked parent image across exec, which here would be the bench's own memory.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads (librdkafka's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
