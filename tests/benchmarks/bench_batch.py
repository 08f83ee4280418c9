"""`deid batch run` on Spark local[2] against a real MinIO (eu raw bucket → us anonymised bucket), beside the
streaming worker on the same clickstream rows in the same run.

  clickstream_1x / _2x  N rows (default 1M) and 2N rows as JSON-lines files, the clickstream policy (main output
                        + the recommender purpose, per-subject keys); rows/s over the whole run (list, read,
                        treat, write, manifest); target: time(2N) <= 2.2 x time(N)
  memos                 M memo text files (default 10k), anonymize_text (Presidio inside the text)
  stream                the streaming worker (`Worker`, until caught up) on the same N clickstream rows from a
                        private Kafka broker: events/s from first record consumed to last batch committed
A warm-up run (a few files) first, so the Spark JVM and the Python workers' compiled plans are ready.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet

from batch.job import run_batch
from batch.store import S3Store, StoreSpec
from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from deid.stack.process import free_port
from deid.stack.storage import MinioServer
from tests.benchmarks.common import BenchContext, Stopwatch, embedded_broker, print_table, progress

NAME = "batch"
DESCRIPTION = "deid batch run rows/s on Spark local[2] + MinIO (clickstream 1x/2x, memos) vs the streaming worker"
REPO = Path(__file__).resolve().parents[2]
FILES = 8
PII = {"email": "EMAIL_ADDRESS", "user_id": "USER_ID", "session_id": "ID", "ip_address": "IP", "device_id": "ID"}


def _clickstream(count: int) -> list[bytes]:
    from producers.clickstream import ClickstreamGenerator

    generator = ClickstreamGenerator(load_registry().get("clickstream"), 7)
    return [orjson.dumps(generator.event()) for _ in range(count)]


def _memos(count: int) -> list[bytes]:
    from producers.memo import MemoGenerator

    generator = MemoGenerator(load_registry().get("memo"), 11)
    return [generator.event()["text"].encode() for _ in range(count)]


def _write_files(store: S3Store, prefix: str, lines: list[bytes], files: int) -> None:
    size = -(-len(lines) // files)
    for index in range(files):
        chunk = lines[index * size : (index + 1) * size]
        store.write(f"{prefix}part-{index:03d}.jsonl", b"\n".join(chunk) + b"\n")


def run(ctx: BenchContext) -> dict[str, object]:
    from schema_inference.spark import spark_session

    rows, memo_count = ctx.count(1_000_000, 2_000), ctx.count(10_000, 20)
    progress(f"generating {rows:,} clickstream rows and {memo_count:,} memos")
    lines, memos = _clickstream(rows), _memos(memo_count)
    with tempfile.TemporaryDirectory(prefix="deid-bench-batch-") as tmp:
        access, secret = "deid-bench", secrets.token_urlsafe(24)
        eu = MinioServer(REPO / ".deid/bin/minio", Path(tmp) / "eu/data", free_port(), access, secret, "minio-eu",
                         console_port=free_port())  # fmt: skip
        us = MinioServer(REPO / ".deid/bin/minio", Path(tmp) / "us/data", free_port(), access, secret, "minio-us",
                         console_port=free_port())  # fmt: skip
        eu.start(), us.start()
        try:
            settings = Settings(
                data_dir=Path(tmp) / "deid",
                master_key=Fernet.generate_key().decode(),
                spark_jars_dir=REPO / ".deid/spark-jars",
                s3_access_key=access,
                s3_secret_key=secret,
                storage_locations=[
                    {"name": "eu-raw", "uri": "s3a://eu-raw/", "region": "eu", "side": "raw", "endpoint": eu.endpoint},
                    {"name": "us-anon", "uri": "s3a://us-anonymised/", "region": "us", "side": "anonymised",
                     "endpoint": us.endpoint},
                ],
            )  # fmt: skip
            raw = S3Store(StoreSpec("s3a://eu-raw/", eu.endpoint, access, secret))
            raw.ensure_bucket()
            S3Store(StoreSpec("s3a://us-anonymised/", us.endpoint, access, secret)).ensure_bucket()
            progress("writing the input files to the eu bucket")
            _write_files(raw, "warm/", lines[:2000], 2)
            _write_files(raw, "clicks-1x/", lines, FILES)
            _write_files(raw, "clicks-2x/", lines + lines, 2 * FILES)
            for index, memo in enumerate(memos):
                raw.write(f"memos/memo-{index:05d}.txt", memo)
            result = _batch_runs(ctx, settings, spark_session(settings, "local[2]"), rows, memo_count)
        finally:
            eu.stop(), us.stop()
    result["stream"] = _stream(lines)
    stream_eps = result["stream"]["eps"]  # type: ignore[index]
    result["batch_vs_stream"] = round(result["clickstream_1x"]["rows_per_s"] / stream_eps, 2)  # type: ignore[index]
    print_table(
        ["run", "rows", "seconds", "rows/s"],
        [(name, result[name]["rows"], result[name]["seconds"], result[name]["rows_per_s"])  # type: ignore[index]
         for name in ("clickstream_1x", "clickstream_2x", "memos")]
        + [("stream worker", rows, result["stream"]["seconds"], stream_eps)],  # type: ignore[index]
    )  # fmt: skip
    print(f"time(2x) / time(1x) = {result['scaling_2x']} (target <= 2.2); batch / stream = {result['batch_vs_stream']}")
    return result


def _batch_runs(ctx: BenchContext, settings: Settings, spark: Any, rows: int, memo_count: int) -> dict[str, Any]:
    clicks = load_registry().get("clickstream")
    policy = Policy.load(REPO / "pipelines/policies/clickstream.yaml")
    memo_policy = Policy.from_document(
        {"domain": "memo", "version": 1, "status": "published",
         "rules": {"memo_id": {"treatment": "keep"}, "text": {"treatment": "anonymize_text"},
                   "created_at": {"treatment": "drop"}}}
    )  # fmt: skip
    try:
        progress("warm-up run")
        run_batch(spark, settings, clicks, policy, "s3a://eu-raw/warm/", "s3a://us-anonymised/warm/", pii=PII)
        result: dict[str, Any] = {"rows": rows, "memos": memo_count, "files_1x": FILES}
        for name, prefix, count in (("clickstream_1x", "clicks-1x/", rows), ("clickstream_2x", "clicks-2x/", 2 * rows)):
            progress(f"batch run {name}: {count:,} rows")
            with Stopwatch() as watch:
                report = run_batch(spark, settings, clicks, policy, f"s3a://eu-raw/{prefix}",
                                   f"s3a://us-anonymised/{prefix}", pii=PII)  # fmt: skip
            assert report.counts["rows_out"] == count, report.counts
            result[name] = {
                "rows": count,
                "seconds": round(watch.seconds, 2),
                "rows_per_s": round(count / watch.seconds, 1),
                "quarantined": report.counts["quarantined"],
            }
            progress(f"{name}: {result[name]}")  # figures as they come: the whole bench takes a while
        result["scaling_2x"] = round(result["clickstream_2x"]["seconds"] / result["clickstream_1x"]["seconds"], 3)
        progress(f"batch run memos: {memo_count:,} documents")
        with Stopwatch() as watch:
            report = run_batch(spark, settings, load_registry().get("memo"), memo_policy, "s3a://eu-raw/memos/",
                               "s3a://us-anonymised/memos/", pii={"text": "FREE_TEXT"})  # fmt: skip
        result["memos"] = {"rows": report.counts["rows_out"], "seconds": round(watch.seconds, 2),
                           "rows_per_s": round(memo_count / watch.seconds, 1)}  # fmt: skip
        return result
    finally:
        spark.stop()


def _stream(lines: list[bytes]) -> dict[str, Any]:
    """The streaming worker on the same rows, from a private broker, until caught up."""
    from deid.kafka import make_admin, make_producer
    from deid.topics import create_domain_topics
    from pipelines.policy_source import StaticPolicySource
    from pipelines.worker import Worker, WorkerOptions
    from tests.integration.registry_server import serve_registry

    domain = load_registry().get("clickstream")
    policy = Policy.load(REPO / "pipelines/policies/clickstream.yaml")
    with embedded_broker() as settings, tempfile.TemporaryDirectory(prefix="deid-bench-stream-") as tmp:
        create_domain_topics(make_admin(settings), [domain])
        producer = make_producer(settings)
        progress(f"producing {len(lines):,} clickstream rows to {domain.raw_topic}")
        for line in lines:
            while True:
                try:
                    producer.produce(domain.raw_topic, line)
                    break
                except BufferError:
                    producer.poll(0.1)
        producer.flush(120)
        with serve_registry(Path(tmp) / "registry.db") as registry_url:
            worker_settings = Settings(
                kafka_bootstrap=settings.kafka_bootstrap,
                data_dir=Path(tmp),
                master_key=Fernet.generate_key().decode(),
                schema_registry_url=registry_url,
            )
            worker = Worker(worker_settings, WorkerOptions(domain="clickstream", until_caught_up=True,
                                                           group_id=f"bench-{time.time_ns()}"),
                            StaticPolicySource(policy))  # fmt: skip
            progress("streaming worker until caught up")
            summary = worker.run()
    eps = round(summary.events_per_second, 1)
    return {"rows": summary.records_in, "seconds": round(summary.seconds, 2), "eps": eps}
