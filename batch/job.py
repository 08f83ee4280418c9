"""`run_batch`: one batch run of a domain on Spark, from the region guard to the manifest.

At start (driver): the input and output are placed in their region and side (`deid.regions`), the guard
refuses untreated PII leaving the raw region, the input prefix is listed and files an earlier manifest names
are skipped. Then one Spark task per new file (`batch.files.process_file`) compiles the published policy
once per Python worker (keys from the same keystore as the streams; no catalog call per record) and writes
its part files; the driver writes `_manifest.json` last.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from batch.files import FileResult, FileTask, KSuppression, RunPaths, count_file_classes, process_file, summarise
from batch.formats import detect_format
from batch.manifest import encode, manifest_key, new_run, processed_files
from batch.store import StoreSpec, join, open_store
from deid.domains import Domain
from deid.errors import ConfigError
from deid.policy import Policy
from deid.regions import Egress, StorageLocation, check_egress, locate, parse_locations
from deid.settings import Settings
from pipelines.keys import open_keystore
from pipelines.plan import Plan, compile_policy
from pipelines.risk import Key
from pipelines.transforms.anonymize_text import TextAnalysis

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

QUARANTINE = "_quarantine"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Placement:
    """A URI with the store to reach it and its place in the region model."""

    spec: StoreSpec
    region: str
    side: str
    location: StorageLocation | None


@dataclass
class BatchReport:
    run_id: str | None
    run: str | None
    manifest: str | None
    files: list[FileResult]
    skipped: list[str]
    exempted: list[str]
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def place(uri: str, settings: Settings, default_region: str) -> Placement:
    """Where `uri` is: a configured location, or (local folders only) the raw side of `default_region`."""
    locations = parse_locations(settings.storage_locations)
    location = locate(uri, locations)
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    if location is None:
        if "://" in uri:
            known = ", ".join(loc.uri for loc in locations) or "none configured"
            raise ConfigError(
                f"{uri} is not in a configured storage location (known: {known}); add it to DEID_STORAGE_LOCATIONS "
                "with its region, side and endpoint"
            )
        return Placement(StoreSpec(uri), default_region, "raw", None)
    spec = StoreSpec(uri, location.endpoint, settings.s3_access_key, secret)
    return Placement(spec, location.region, location.side, location)


def list_inputs(source: StoreSpec, fmt: str | None) -> list[tuple[str, int, str, str]]:
    """(key, size, etag, format) of the files a batch reads, in key order; `_*`/`.*` folders and files skipped."""
    found = []
    for info in open_store(source).list():
        parts = PurePosixPath(info.key).parts
        if any(p.startswith(("_", ".")) for p in parts[:-1]):
            continue
        kind = detect_format(info.key, fmt)
        if kind is not None:
            found.append((info.key, info.size, info.etag, kind))
    return sorted(found)


@dataclass(frozen=True)
class PreparedRun:
    """A run that passed the region guard: where it reads, writes and quarantines."""

    domain: Domain
    policy: Policy
    input_uri: str
    output_uri: str
    source: Placement
    target: Placement
    quarantine: Placement
    fmt: str | None
    exempted: list[str]


def prepare_batch(
    settings: Settings,
    domain: Domain,
    policy: Policy,
    input_uri: str,
    output_uri: str,
    *,
    quarantine_uri: str | None = None,
    fmt: str | None = None,
    pii: Mapping[str, str] | None = None,
) -> PreparedRun:
    """Place input, output and quarantine in the region model and run the guard (RegionGuardError, exit 2);
    no file is touched and Spark is not needed yet."""
    home = domain.region or settings.region
    source = place(input_uri, settings, home)
    if source.side != "raw":
        raise ConfigError(f"{input_uri} is on the {source.side} side; a batch run reads raw data (a raw-side location)")
    if domain.region and source.region != domain.region:
        raise ConfigError(
            f"{input_uri} is in region {source.region}, but domain {domain.name!r} collects in {domain.region}"
        )
    target = place(output_uri, settings, source.region)
    quarantine = place(quarantine_uri or join(input_uri, QUARANTINE), settings, source.region)
    if quarantine.side != "raw" or quarantine.region != source.region:
        raise ConfigError(
            f"quarantine {quarantine.spec.uri} must be on the raw side of region {source.region} (it holds raw rows)"
        )
    egress = Egress(input_uri, source.region, output_uri, target.region, target.side)  # type: ignore[arg-type]
    exempted = check_egress(egress, policy, pii)
    return PreparedRun(domain, policy, input_uri, output_uri, source, target, quarantine, fmt, exempted)


def run_batch(
    spark: SparkSession,
    settings: Settings,
    domain: Domain,
    policy: Policy,
    input_uri: str,
    output_uri: str,
    *,
    quarantine_uri: str | None = None,
    fmt: str | None = None,
    pii: Mapping[str, str] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Guard, then run (see `prepare_batch` and `execute_batch`)."""
    prepared = prepare_batch(
        settings, domain, policy, input_uri, output_uri, quarantine_uri=quarantine_uri, fmt=fmt, pii=pii
    )
    return execute_batch(spark, settings, prepared, now=now, progress=progress)


def execute_batch(
    spark: SparkSession,
    settings: Settings,
    prepared: PreparedRun,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    domain, policy, source, target, quarantine = (
        prepared.domain,
        prepared.policy,
        prepared.source,
        prepared.target,
        prepared.quarantine,
    )
    exempted = prepared.exempted
    input_uri, output_uri = prepared.input_uri, prepared.output_uri
    # A policy that cannot compile fails here, on the driver, not in every task.
    compile_policy(policy, domain, open_keystore(settings), text_analysis=TextAnalysis(settings))

    output_store = open_store(target.spec)
    done = processed_files(output_store, domain.name)
    listed = list_inputs(source.spec, prepared.fmt)
    new = [item for item in listed if done.get(item[0]) != item[2]]
    skipped = [item[0] for item in listed if done.get(item[0]) == item[2]]
    say(f"{domain.name}: {len(listed)} file(s) under {input_uri}: {len(new)} new, {len(skipped)} already processed")
    if not new:
        return BatchReport(None, None, None, [], skipped, exempted, summarise([]), time.perf_counter() - started)

    moment = now or datetime.now(UTC)
    run_id, run = new_run(moment)
    paths = RunPaths(domain.name, run)
    tasks = [FileTask(key, size, etag, kind, part) for part, (key, size, etag, kind) in enumerate(new)]
    if hasattr(output_store, "ensure_bucket"):
        output_store.ensure_bucket()
    say(f"{domain.name}: run {run_id}: {len(tasks)} file(s) on Spark {spark.sparkContext.master}")
    # Several small files per task (a Spark task costs more than a memo), at least as many tasks as cores.
    slices = min(len(tasks), 4 * spark.sparkContext.defaultParallelism)
    k_suppression = None
    if policy.k_anonymity == "suppress" and domain.quasi_identifiers:
        k_suppression = KSuppression(tuple(domain.quasi_identifiers), domain.target_k)
    job = _Job(settings, domain, policy, source.spec, target.spec, quarantine.spec, paths, k_suppression)
    if k_suppression is not None:
        # Nothing is written before the run's classes are known (fail closed), so this pass treats the files
        # once more rather than write unsuppressed outputs and rewrite them.
        say(f"{domain.name}: k-anonymity suppression (k={domain.target_k}): counting quasi-identifier classes first")
        counter = _ClassCounter(job)  # pickled now, with no classes yet
        for name, classes in spark.sparkContext.parallelize(tasks, slices).mapPartitions(counter).collect():
            k_suppression.classes.setdefault(name, Counter()).update(classes)
    results: list[FileResult] = spark.sparkContext.parallelize(tasks, slices).mapPartitions(job).collect()
    counts = summarise(results)
    manifest = {
        "run_id": run_id,
        "domain": domain.name,
        "policy_version": policy.version,
        "input": input_uri,
        "output": output_uri,
        "quarantine": quarantine.spec.uri,
        "regions": {"input": source.region, "output": target.region, "output_side": target.side},
        "exemptions": exempted,
        "started": moment.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "counts": counts,
        "skipped_files": skipped,
        "files": [r.to_dict() for r in results],
    }
    key = manifest_key(domain.name, run)
    output_store.write(key, encode(manifest), "application/json")
    say(
        f"{domain.name}: {counts['rows_in']:,} row(s) in, {counts['rows_out']:,} out, {counts['quarantined']:,} "
        f"quarantined{_suppressed_note(counts)}; manifest {join(output_uri, key).rstrip('/')}"
    )
    return BatchReport(run_id, run, key, results, skipped, exempted, counts, time.perf_counter() - started)


def _suppressed_note(counts: Mapping[str, Any]) -> str:
    suppressed = counts.get("k_suppressed")
    if not suppressed:
        return ""
    return ", quasi-identifiers nulled (k) in " + ", ".join(f"{n:,} {name}" for name, n in suppressed.items())


class _Job:
    """The task function: picklable state only; the plan is compiled in the Python worker and cached there."""

    def __init__(
        self,
        settings: Settings,
        domain: Domain,
        policy: Policy,
        source: StoreSpec,
        output: StoreSpec,
        quarantine: StoreSpec,
        paths: RunPaths,
        k_suppression: KSuppression | None = None,
    ) -> None:
        self.settings, self.domain, self.policy = settings, domain, policy
        self.source, self.output, self.quarantine, self.paths = source, output, quarantine, paths
        self.k_suppression = k_suppression
        self.fingerprint = hashlib.sha256(policy.to_json().encode()).hexdigest()

    def __call__(self, tasks: Iterable[FileTask]) -> Iterator[FileResult]:
        plan = _plan(self)
        for task in tasks:
            yield process_file(
                task, plan, self.domain, self.source, self.output, self.quarantine, self.paths, self.k_suppression
            )


class _ClassCounter:
    """The first pass of a k-suppressing run, per Spark partition: (output name, class counts) per file."""

    def __init__(self, job: _Job) -> None:
        assert job.k_suppression is not None
        self.job, self.quasi_identifiers = job, job.k_suppression.quasi_identifiers

    def __call__(self, tasks: Iterable[FileTask]) -> Iterator[tuple[str, Counter[Key]]]:
        job = self.job
        plan = _plan(job)  # the same cached plan as the second pass
        for task in tasks:
            yield from count_file_classes(task, plan, job.domain, job.source, self.quasi_identifiers).items()


_PLANS: dict[tuple[str, str, str], Plan] = {}
"""Compiled plans of this Python worker, by (domain, policy fingerprint, keystore): Spark reuses workers."""


def _plan(job: _Job) -> Plan:
    key = (job.domain.name, job.fingerprint, str(job.settings.data_dir.resolve()) + str(job.settings.keystore_url))
    plan = _PLANS.get(key)
    if plan is None:
        keystore, text = open_keystore(job.settings), TextAnalysis(job.settings)
        plan = _PLANS[key] = compile_policy(job.policy, job.domain, keystore, text_analysis=text)
    return plan
