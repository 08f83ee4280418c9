"""What `./scripts/demo` does, step by step, every step safe to run again:

1. start Kafka and the catalog (`deid stack up`'s services; already running ones are left alone);
2. a master key (DEID_MASTER_KEY[_FILE], else ~/.config/deid/master.key, created once) and the data keys;
3. every domain's topics; 4. events: each raw topic is filled up to the target count (a re-run adds
   nothing), the 16 seed channel events of the original demo included;
5. schema inference for every domain in one Spark session, published to the catalog with a draft policy;
6. demo mode only: suggestions at or above --min-confidence are confirmed and the drafts published (a
   steward does this in the UI); `profile` and `clickstream` get their reviewed consent-aware policies
   (pipelines/policies/), which inference cannot guess;
7. every domain's worker runs until caught up (exactly-once); 8. raw events beside their anonymised twins;
9. with --batch (or DEID_STORAGE_LOCATIONS set): memo and clickstream files from the EU bucket anonymised into
   the US bucket, and a raw copy to the US refused by the region guard (deid/demo/batch.py).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from catalog.client import CatalogClient
from catalog.review import approve_suggestions
from deid.demo.batch import run_batch_demo
from deid.demo.report import DomainResult, collect, topic_count
from deid.demo.steps import StepRunner
from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.kafka import make_producer, reachable_admin
from deid.policy import Policy
from deid.settings import Settings
from deid.stack.catalog_service import EmbeddedCatalog
from deid.stack.kafka_broker import EmbeddedKafka
from deid.stack.workers import PipelineWorkers
from deid.tags import NON_PII
from deid.topics import create_domain_topics
from pipelines.catalog_binding import catalog_policy_source, lineage_sink
from pipelines.keys import init_keys, open_keystore
from pipelines.keys.master import write_new_master_key
from pipelines.worker import Worker, WorkerOptions
from producers.produce import produce_events, producer_overrides
from producers.registry import generator_for
from producers.sources import generated_events, replayed_events, scan_file
from schema_inference.run import run_inference
from schema_inference.spark import spark_session

CONSENT_POLICIES = ("profile", "clickstream")  # their reviewed policy decides per row by consent
DEMO_MASTER_KEY = Path("~/.config/deid/master.key")


@dataclass
class DemoOptions:
    events: int = 2000
    min_confidence: float = 0.8
    keep_running: bool = False
    sample: int = 400
    master: str = "local[2]"
    domains: list[str] | None = None
    batch: bool = False
    """Also the batch step (files in the EU bucket → the US bucket); on when DEID_STORAGE_LOCATIONS is set."""


class Demo:
    def __init__(self, settings: Settings, options: DemoOptions, runner: StepRunner) -> None:
        self.settings, self.options, self.runner = settings, options, runner
        registry = load_registry(settings)
        self.domains: list[Domain] = registry.select(options.domains)
        self.results = {d.name: DomainResult(d.name) for d in self.domains}

    def steps(self) -> list[tuple[str, Any]]:
        steps = [
            ("start Kafka and the catalog", self.stack_up),
            ("master key and data keys", self.keys),
            ("create every domain's topics", self.topics),
            ("produce events", self.produce),
            ("infer schemas and tag personal data (Spark)", self.infer),
            ("accept suggestions and publish policies (demo mode)", self.publish),
            ("de-identify every domain (workers until caught up)", self.deidentify),
            ("read raw and anonymised topics back", self.compare),
        ]
        wanted = self.options.batch or bool(self.settings.storage_locations)
        if wanted and {"memo", "clickstream"} <= {d.name for d in self.domains}:
            steps.append(("batch: memo and clickstream files, EU bucket → US bucket (Spark)", self.batch))
        if self.options.keep_running:
            steps.append(("leave the workers running", self.keep_workers))
        return steps

    def run(self) -> list[DomainResult]:
        for name, action in self.steps():
            self.runner.run(name, action)
        return list(self.results.values())

    # -- 1-3 ---------------------------------------------------------------------------------------

    def stack_up(self) -> None:
        for service in (EmbeddedKafka(self.settings), EmbeddedCatalog(self.settings)):
            preflight = getattr(service, "preflight", None)
            if preflight is not None:
                preflight()
            self.runner.say(f"{service.name}: {service.start(120)}")

    def keys(self) -> None:
        if self.settings.master_key is None and self.settings.master_key_file is None:
            path = DEMO_MASTER_KEY.expanduser()
            if not path.exists():
                write_new_master_key(path)
                self.runner.say(f"wrote a new master key to {path} (mode 600; back it up)")
            self.settings = self.settings.model_copy(update={"master_key_file": path})
            os.environ["DEID_MASTER_KEY_FILE"] = str(path)  # for the workers `--keep-running` starts
            self.runner.say(f"master key: {path} (export DEID_MASTER_KEY_FILE={path} to use it yourself)")
        keystore = open_keystore(self.settings)
        try:
            created = [info.name for info, new in init_keys(keystore, [d.name for d in self.domains]) if new]
        finally:
            keystore.close()
        self.runner.say(f"data keys: {len(created)} created" if created else "data keys: all present")

    def topics(self) -> None:
        results = create_domain_topics(reachable_admin(self.settings), self.domains)
        created = [r.topic for r in results if r.status == "created"]
        self.runner.say(f"{len(created)} created, {len(results) - len(created)} already there")

    # -- 4 -----------------------------------------------------------------------------------------

    def produce(self) -> None:
        producer = make_producer(self.settings, **producer_overrides(self.settings))
        for domain in self.domains:
            have = topic_count(self.settings, domain.raw_topic)
            missing = self.options.events - have
            if missing <= 0:
                self.runner.say(f"{domain.raw_topic}: already holds {have} events")
                continue
            events = list(generated_events(generator_for(domain, seed=have + 1), missing, domain.subject_field))
            if domain.name == "channel" and have == 0:
                seed_file = Path(str(resources.files("deid.demo").joinpath("channel_seed_events.jsonl")))
                events += replayed_events(seed_file, scan_file(seed_file), domain.subject_field, _no_bad_lines)
            stats = produce_events(producer, domain.raw_topic, events)
            if stats.failed:
                raise DeidError(f"{stats.failed} of {stats.produced} events to {domain.raw_topic} were not delivered")
            self.runner.say(f"{domain.raw_topic}: {stats.delivered} events produced")

    # -- 5-6 ---------------------------------------------------------------------------------------

    def infer(self) -> None:
        session = spark_session(self.settings, master=self.options.master, app_name="deid-demo-infer")
        try:
            for domain in self.domains:
                outcome = run_inference(
                    self.settings, domain, spark=session, sample=self.options.sample, progress=self._quiet
                )
                tagged = [p for p, d in outcome.result.decisions.items() if d.entity not in (None, NON_PII)]
                self.runner.say(f"{domain.name}: {len(outcome.result.decisions)} fields, PII: {', '.join(tagged)}")
        finally:
            session.stop()

    def _quiet(self, message: str) -> None:
        logging.getLogger("deid.demo.infer").info(message)

    def publish(self) -> None:
        with CatalogClient.from_settings(self.settings) as client:
            for domain in self.domains:
                confirmed = approve_suggestions(client, domain.name, self.settings.cluster, self.options.min_confidence)
                if domain.name in CONSENT_POLICIES:
                    reviewed = resources.files("pipelines").joinpath("policies", f"{domain.name}.yaml").read_text()
                    client.put_policy_draft(domain.name, Policy.from_yaml(reviewed).to_document())
                published = client.publish_policy(domain.name)
                result = self.results[domain.name]
                result.policy_version = published["version"]
                result.treatments = _treatment_counts(published["policy"])
                how = "reviewed consent-aware policy" if domain.name in CONSENT_POLICIES else "suggested draft"
                change = "published" if published["changed"] else "unchanged"
                self.runner.say(
                    f"{domain.name}: {len(confirmed)} tag(s) confirmed at ≥ {self.options.min_confidence:g}; "
                    f"{how} {change} as v{published['version']}"
                )

    # -- 7-8 ---------------------------------------------------------------------------------------

    def deidentify(self) -> None:
        for domain in self.domains:
            options = WorkerOptions(domain=domain.name, until_caught_up=True, exactly_once=True, instance_id="demo")
            worker = Worker(
                self.settings, options, catalog_policy_source(self.settings), lineage=lineage_sink(self.settings)
            )
            summary = worker.run()
            result = self.results[domain.name]
            result.seconds = summary.seconds + summary.startup_seconds
            self.runner.say(summary.lines()[0])

    def compare(self) -> None:
        for domain in self.domains:
            collect(self.settings, domain, self.results[domain.name])

    def batch(self) -> None:
        # start-up: boto3, pyarrow and the batch job load only when the batch step runs

        run_batch_demo(self.settings, self.runner, self.options.master)

    def keep_workers(self) -> None:
        self.runner.say(PipelineWorkers(self.settings).start(120))


def _no_bad_lines(number: int, reason: str) -> None:
    raise DeidError(f"seed events line {number}: {reason}")


def _treatment_counts(document: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rule in document.get("rules", {}).values():
        name = rule.get("treatment") or "by consent"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
