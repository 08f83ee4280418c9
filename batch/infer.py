"""Schema inference for files: profile the rows of a bucket prefix (or folder) like a raw topic's records.

Each Spark task reads files (`batch.formats`), hands every row to the same `Profile` the topic reader uses
(as JSON bytes; undecodable rows count as corrupt), and the result is an `InferenceResult` for the domain's
raw topic name, so classification, publishing, the tags and the draft policy are exactly the stream's: the
stream and the batch of one domain share their field entities in the catalog.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

import orjson

from batch.formats import read_rows
from batch.job import list_inputs, place
from batch.store import StoreSpec, open_store
from deid.domains import Domain
from deid.errors import DeidError
from deid.settings import Settings
from schema_inference.avro import profile_to_avro
from schema_inference.job import InferenceResult, Progress
from schema_inference.profile import DEFAULT_SAMPLE, Profile, merge_all

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def infer_files(
    settings: Settings,
    domain: Domain,
    spark: SparkSession,
    input_uri: str,
    *,
    fmt: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    progress: Progress | None = None,
) -> InferenceResult:
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    source = place(input_uri, settings, domain.region or settings.region)
    files = list_inputs(source.spec, fmt)
    if not files:
        raise DeidError(f"{input_uri} holds no file a batch reads (.jsonl, .csv, .parquet, .txt); nothing to infer")
    say(f"{domain.name}: profiling {len(files)} file(s) under {input_uri}")
    tasks = [(key, kind) for key, _size, _etag, kind in files]
    profile = partial(_profile_files, spec=source.spec, domain=domain, sample=sample, seed=seed)
    slices = min(len(tasks), 4 * spark.sparkContext.defaultParallelism)  # several small files per task
    partials = spark.sparkContext.parallelize(tasks, slices).mapPartitionsWithIndex(profile).collect()
    summary = (merge_all(partials) or Profile(sample, seed)).summary()
    profiled = round(time.perf_counter() - started, 3)
    if summary.valid == 0:
        raise DeidError(f"{input_uri}: none of its {summary.events:,} rows is a record; no schema to infer")
    doc = f"Raw rows of {domain.name} files under {input_uri}, inferred by deid from {summary.valid:,} records"
    schema = profile_to_avro(summary, domain.name, doc=doc)
    say(f"{domain.name}: profiled {summary.events:,} rows ({summary.corrupt:,} corrupt) in {profiled:.1f} s")
    return InferenceResult(
        domain=domain.name,
        topic=domain.raw_topic,
        schema=schema,
        profile=summary,
        ranges=[],
        sample_size=sample,
        max_events=None,
        timings={"profile": profiled, "total": round(time.perf_counter() - started, 3)},
    )


def _profile_files(
    index: int, tasks: Iterable[tuple[str, str]], spec: StoreSpec, domain: Domain, sample: int, seed: int
) -> Iterator[Profile]:
    store = open_store(spec)

    def rows() -> Iterator[tuple[bytes | None, int, int]]:
        for key, kind in tasks:
            for row in read_rows(kind, store.read(key), key, domain):
                value = orjson.dumps(row.record, default=str) if row.record is not None else (row.raw or "").encode()
                yield value, index, row.number

    yield Profile(sample, seed=f"{seed}:{index}").add_all(rows())
