"""The inference job: read a domain's raw topic, profile every record, emit its Avro schema.

`infer_domain` does the schema half and returns an `InferenceResult`. Classification is a second step over
the result's samples (`classify`: mapPartitions over (field, value) pairs, one analyzer per partition, then
`classify.decide` per field); publishing to the catalog and registry is a third step over the same result.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.settings import Settings
from schema_inference.avro import profile_to_avro
from schema_inference.classify import (
    DEFAULT_THRESHOLDS,
    Analyzer,
    FieldDecision,
    Findings,
    Thresholds,
    analyze_values,
    decide,
    sampled_values,
)
from schema_inference.profile import DEFAULT_SAMPLE, Profile, ProfileSummary, merge_all
from schema_inference.read import PartitionRange, framed_records, plan_offsets, read_raw, unframe
from schema_inference.signals import field_signals
from schema_inference.stats import FieldProfile
from schema_inference.structural import refine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(f"infer: {message}", file=sys.stderr, flush=True)


@dataclass
class InferenceResult:
    """Everything one inference run learnt about a domain's raw topic. Holds raw sampled values in
    `profile`: never log or publish them (evidence uses masked shapes)."""

    domain: str
    topic: str
    schema: dict[str, Any]
    profile: ProfileSummary = field(repr=False)
    ranges: list[PartitionRange]
    sample_size: int
    max_events: int | None
    timings: dict[str, float]  # seconds per step: plan, profile, schema, total
    decisions: dict[str, FieldDecision] = field(default_factory=dict)  # by field path, after classify()
    findings: dict[str, Findings] = field(default_factory=dict, repr=False)  # the analyzer's tallies, by path
    subject_field: str | None = None
    event_time_field: str | None = None

    @property
    def planned(self) -> int:
        """Records the offset plan covered (the broker may hold transaction markers among them)."""
        return sum(r.count for r in self.ranges)

    @property
    def events(self) -> int:
        return self.profile.events

    @property
    def corrupt(self) -> int:
        return self.profile.corrupt

    @property
    def fields(self) -> dict[str, FieldProfile]:
        return {f.path: f for f in self.profile.walk()}

    @property
    def events_per_second(self) -> float:
        seconds = self.timings.get("profile", 0.0)
        return round(self.events / seconds, 1) if seconds else 0.0


def infer_domain(
    settings: Settings,
    domain: str | Domain,
    spark: SparkSession,
    sample: int = DEFAULT_SAMPLE,
    max_events: int | None = None,
    seed: int = 0,
    progress: Progress | None = stderr_progress,
) -> InferenceResult:
    """Profile `<domain>-raw-data` from earliest to latest (or its first `max_events` records) and infer
    the Avro schema of its events."""
    say = progress or (lambda _message: None)
    spec = domain if isinstance(domain, Domain) else load_registry(settings).get(domain)
    topic, timings, started = spec.raw_topic, {}, time.perf_counter()
    if sample < 1:
        raise DeidError(f"--sample must be at least 1 (got {sample})")
    if max_events is not None and max_events < 1:
        raise DeidError(f"--max-events must be at least 1 (got {max_events})")

    with _timed(timings, "plan"):
        ranges = plan_offsets(settings, topic, max_events)
    planned = sum(r.count for r in ranges)
    if planned == 0:
        raise DeidError(f"topic {topic} has no events to infer a schema from; produce some first")
    bound = f" (first {max_events:,})" if max_events is not None else ""
    say(f"{spec.name}: reading {planned:,} events{bound} from {topic}, {len(ranges)} partition(s)")

    with _timed(timings, "profile"), _spark_progress(spark, say):
        frame = read_raw(spark, settings, topic, ranges)
        profile_partition = partial(_profile_partition, sample_size=sample, seed=seed, subject_field=spec.subject_field)
        partials = framed_records(frame).mapPartitionsWithIndex(profile_partition).collect()
        total = merge_all(partials) or Profile(sample, seed, spec.subject_field)
        summary = total.summary()
    rate = summary.events / timings["profile"] if timings["profile"] else 0.0
    say(
        f"{spec.name}: profiled {summary.events:,} events in {timings['profile']:.1f} s ({rate:,.0f}/s): "
        f"{summary.valid:,} valid, {summary.corrupt:,} corrupt"
        + (f" ({', '.join(f'{k}: {v:,}' for k, v in summary.corrupt_reasons.items())})" if summary.corrupt else "")
    )
    if summary.valid == 0:
        raise DeidError(f"topic {topic}: none of its {summary.events:,} events is a JSON object; no schema to infer")

    with _timed(timings, "schema"):
        doc = f"Raw events of {topic}, inferred by deid from {summary.valid:,} records"
        schema = profile_to_avro(summary, spec.name, doc=doc)
    timings["total"] = round(time.perf_counter() - started, 3)
    say(f"{spec.name}: schema with {sum(1 for _ in summary.walk())} field paths in {timings['total']:.1f} s")
    return InferenceResult(
        domain=spec.name,
        topic=topic,
        schema=schema,
        profile=summary,
        ranges=ranges,
        sample_size=sample,
        max_events=max_events,
        timings=timings,
        subject_field=spec.subject_field,
        event_time_field=spec.event_time_field,
    )


def _profile_partition(
    index: int, rows: Iterable[bytes], sample_size: int, seed: int, subject_field: str | None = None
) -> Iterator[Profile]:
    """Runs on an executor: one Profile per Spark partition, seeded by the partition index."""
    yield Profile(sample_size, seed=f"{seed}:{index}", subject_field=subject_field).add_all(unframe(rows))


def analyze_samples(
    spark: SparkSession,
    result: InferenceResult,
    analyzer_factory: Callable[[], Analyzer],
) -> dict[str, Findings]:
    """Analyse every sampled value on the executors (one analyzer per partition); tallies per field path."""
    pairs = list(sampled_values(result.profile))
    if not pairs:
        return {}
    slices = max(1, min(len(pairs), spark.sparkContext.defaultParallelism * 2))
    tallies = (
        spark.sparkContext.parallelize(pairs, slices)
        .mapPartitions(partial(analyze_values, analyzer_factory=analyzer_factory))
        .reduceByKey(Findings.merge)
        .collect()
    )
    return dict(tallies)


def classify(
    spark: SparkSession,
    result: InferenceResult,
    analyzer_factory: Callable[[], Analyzer],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    progress: Progress | None = stderr_progress,
) -> dict[str, FieldDecision]:
    """Decide every leaf field's entity; stores and returns the decisions by path."""
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    tallies = analyze_samples(spark, result, analyzer_factory)
    decisions = decide_all(
        result.profile,
        tallies,
        thresholds,
        subject_field=result.subject_field,
        event_time_field=result.event_time_field,
    )
    result.decisions, result.findings = decisions, tallies
    result.timings["classify"] = round(time.perf_counter() - started, 3)
    pii = sum(1 for d in decisions.values() if d.is_pii)
    say(f"{result.domain}: classified {len(decisions)} fields ({pii} PII) in {result.timings['classify']:.1f} s")
    return decisions


def decide_all(
    summary: ProfileSummary,
    tallies: dict[str, Findings],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    subject_field: str | None = None,
    event_time_field: str | None = None,
) -> dict[str, FieldDecision]:
    """Every leaf field's decision: the analyzer's rule (`classify.decide`), refined by structure (`structural`)."""
    decisions = {}
    sketch = summary.subjects
    for profile in summary.walk():
        if profile.fields or profile.items or profile.values:
            continue  # containers: their leaves carry the decisions
        found = tallies.get(profile.path, Findings())
        decisions[profile.path] = refine(
            decide(profile, found, thresholds),
            profile,
            found,
            field_signals(profile, sketch),
            event_time_field=event_time_field,
            subject_field=subject_field,
            thresholds=thresholds,
        )
    return decisions


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = round(time.perf_counter() - started, 3)


@contextmanager
def _spark_progress(spark: SparkSession, say: Progress, every: float = 10.0) -> Iterator[None]:
    """Report the running Spark stages' task counts every `every` seconds while the block runs."""
    tracker = spark.sparkContext.statusTracker()
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every):
            for stage_id in tracker.getActiveStageIds():
                info = tracker.getStageInfo(stage_id)
                if info is not None:
                    say(f"  stage {stage_id}: {info.numCompletedTasks}/{info.numTasks} tasks done")

    reporter = threading.Thread(target=report, name="deid-infer-progress", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        stop.set()
        reporter.join(timeout=every)
