"""The demo's batch step: 30 memos and a clickstream batch written to the EU raw bucket, the memo files
inferred and their tags published, both anonymised into the US bucket by `deid batch run`'s job; an input
memo shown beside its output, and a run asked to copy raw memos to the US bucket refused by the region guard.

Storage: DEID_STORAGE_LOCATIONS when set, else the demo's own two MinIO servers (eu on 127.0.0.1:9000, us on
127.0.0.1:9100) with an access key `deid-demo` and a secret generated once into DEID_DATA_DIR/minio/.
"""

from __future__ import annotations

import secrets
import textwrap
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import SecretStr

from batch.infer import infer_files
from batch.job import place, prepare_batch, run_batch
from batch.store import open_store
from catalog.client import CatalogClient
from deid.demo.steps import StepRunner
from deid.domains import load_registry
from deid.errors import DeidError
from deid.policy import Policy
from deid.regions import RegionGuardError
from deid.settings import Settings
from deid.stack.storage import EmbeddedStorage
from pipelines.catalog_binding import pii_tags
from producers.clickstream import ClickstreamGenerator
from producers.memo import MemoGenerator
from schema_inference.run import run_inference
from schema_inference.spark import spark_session

MEMOS, CLICKS = 30, 500
EU_RAW, US_ANON = "s3a://eu-raw/", "s3a://us-anonymised/"


def demo_storage(settings: Settings) -> Settings:
    """The settings with the demo's two regions when no storage is configured."""
    if settings.storage_locations:
        return settings
    secret_file = (settings.data_dir / "minio" / "demo-secret").resolve()
    if not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(24))
        secret_file.chmod(0o600)
    eu, us = "http://127.0.0.1:9000", "http://127.0.0.1:9100"
    locations = [
        {"name": "eu-raw", "uri": EU_RAW, "region": "eu", "side": "raw", "endpoint": eu},
        {"name": "us-anonymised", "uri": US_ANON, "region": "us", "side": "anonymised", "endpoint": us},
        {"name": "us-raw", "uri": "s3a://us-raw/", "region": "us", "side": "raw", "endpoint": us},
    ]
    secret = settings.s3_secret_key or SecretStr(secret_file.read_text().strip())
    access = settings.s3_access_key or "deid-demo"
    return settings.model_copy(
        update={"storage_locations": locations, "s3_access_key": access, "s3_secret_key": secret}
    )


class BatchDemo:
    def __init__(self, settings: Settings, runner: StepRunner, master: str) -> None:
        self.settings, self.runner, self.master = demo_storage(settings), runner, master

    def run(self) -> None:

        settings, say = self.settings, self.runner.say
        say(f"storage: {EmbeddedStorage(settings).start(60)}")
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        memo_prefix, click_prefix = f"{EU_RAW}memos/{day}/", f"{EU_RAW}clickstream/{day}/"
        self._write_inputs(memo_prefix, click_prefix)
        registry = load_registry(settings)
        memo, clicks = registry.get("memo"), registry.get("clickstream")
        spark = spark_session(settings, master=self.master, app_name="deid-demo-batch")
        try:
            with CatalogClient.from_settings(settings) as client:
                outcome = run_inference(
                    settings, memo, spark=spark, client=client, progress=None,
                    reader=lambda session, _say: infer_files(settings, memo, session, memo_prefix),
                )  # fmt: skip
                say(f"memo files: {outcome.result.events} documents profiled, tags published")
                for domain, prefix in ((memo, memo_prefix), (clicks, click_prefix)):
                    policy = client.latest_published_policy(domain.name)
                    if policy is None:
                        raise DeidError(f"domain {domain.name!r} has no published policy; the publish step sets one")
                    pii = pii_tags(client, domain.raw_topic, settings.cluster)
                    try:
                        report = run_batch(spark, settings, domain, policy, prefix, f"{US_ANON}{domain.name}/", pii=pii)
                    except RegionGuardError as refused:  # the published policy keeps PII without an exemption
                        say(f"{domain.name}: not sent to the US bucket: {refused}")
                        continue
                    c = report.counts
                    say(f"{domain.name}: {c['rows_in']} in, {c['rows_out']} out, {c['quarantined']} quarantined, "
                        f"{len(report.skipped)} file(s) already done (EU → US, policy v{policy.version})")  # fmt: skip
                self._show_pair(memo_prefix)
                raw_copy = Policy.from_document(
                    {"domain": "memo", "version": 1, "status": "published",
                     "rules": {name: {"treatment": "keep"} for name in memo.fields}}
                )  # fmt: skip
                try:
                    prepare_batch(settings, memo, raw_copy, memo_prefix, "s3a://us-raw/memos/",
                                  pii=pii_tags(client, memo.raw_topic, settings.cluster))  # fmt: skip
                except RegionGuardError as refused:
                    say(f"refused as it should be: {refused}")
                else:
                    raise DeidError("the region guard let raw memos go to the US bucket")
        finally:
            spark.stop()

    def _write_inputs(self, memo_prefix: str, click_prefix: str) -> None:

        registry = load_registry(self.settings)
        memos = open_store(place(memo_prefix, self.settings, "eu").spec)
        if not any(True for _ in memos.list()):
            generator = MemoGenerator(registry.get("memo"), 2026)
            for index in range(MEMOS):
                memos.write(f"memo-{index:03d}.txt", generator.event()["text"].encode())
        clicks = open_store(place(click_prefix, self.settings, "eu").spec)
        if not any(True for _ in clicks.list()):
            generator = ClickstreamGenerator(registry.get("clickstream"), 2026)
            clicks.write("part-000.jsonl", b"".join(orjson.dumps(generator.event()) + b"\n" for _ in range(CLICKS)))
        self.runner.say(f"EU bucket: {MEMOS} memos under {memo_prefix}, {CLICKS} clickstream rows under {click_prefix}")

    def _show_pair(self, memo_prefix: str) -> None:

        raw = open_store(place(memo_prefix, self.settings, "eu").spec).read("memo-000.txt").decode()
        out_store = open_store(place(f"{US_ANON}memo/", self.settings, "us").spec)
        outputs = sorted(o.key for o in out_store.list("anonymised/memo/") if o.key.endswith("part-00000.txt"))
        anonymised = out_store.read(outputs[-1]).decode() if outputs else "(none)"
        say = self.runner.say
        say(f"input  {memo_prefix}memo-000.txt:")
        for line in textwrap.wrap(raw, 100):
            say(f"    {line}")
        say(f"output {US_ANON}memo/{outputs[-1] if outputs else '?'}:")
        for line in textwrap.wrap(anonymised, 100):
            say(f"    {line}")


def run_batch_demo(settings: Settings, runner: StepRunner, master: str) -> Any:
    BatchDemo(settings, runner, master).run()
