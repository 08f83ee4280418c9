"""One inference run of a domain, phase by phase: reading + profiling (Spark), classifying (Presidio on the
executors), publishing (Schema Registry, catalog, draft policy). `deid infer` (also `python -m deid infer`)
calls `run_inference`; progress goes to stderr, the summary is the caller's to print.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from catalog.client import CatalogClient
from catalog.domain_api import CatalogDomains
from deid.domains import Domain, DomainSource, load_registry
from deid.errors import ConfigError
from deid.policy import Policy
from deid.settings import Settings
from recognizers import build_analyzer, engine_choice
from schema_inference.classify import DEFAULT_THRESHOLDS, Analyzer, Thresholds
from schema_inference.draft import draft_policy
from schema_inference.job import InferenceResult, Progress, classify, infer_domain, stderr_progress
from schema_inference.profile import DEFAULT_SAMPLE
from schema_inference.publish import PublishReport, publish_to_catalog, register_raw_schema
from schema_inference.spark import spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class RunOutcome:
    domain: Domain
    result: InferenceResult
    policy: Policy
    schema_id: int | None = None
    schema_version: int | None = None
    report: PublishReport | None = None
    engine: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def _default_analyzer_factory(settings: Settings) -> Callable[[], Analyzer]:
    """The executors' analyzer: the driver's settings travel with the (pickled) factory."""
    return partial(build_analyzer, settings)  # type: ignore[return-value]


def _resolve(settings: Settings, domain: str | Domain, domains: DomainSource | None, client: Any) -> Domain:
    if isinstance(domain, Domain):
        return domain
    if domains is None:
        domains = CatalogDomains(client) if client is not None else load_registry(settings)
    return domains.get(domain)


def run_inference(
    settings: Settings,
    domain: str | Domain,
    *,
    spark: SparkSession | None = None,
    master: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    max_events: int | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    publish: bool = True,
    client: CatalogClient | None = None,
    analyzer_factory: Callable[[], Analyzer] | None = None,
    progress: Progress | None = stderr_progress,
    domains: DomainSource | None = None,
    reader: Callable[[SparkSession, Progress], InferenceResult] | None = None,
) -> RunOutcome:
    """Infer, classify and (unless `publish` is False) publish one domain. A given `spark` session is
    reused and left running; otherwise one is started on `master` and stopped at the end. `reader`
    replaces phase 1 (reading the raw topic), e.g. with the files of a bucket prefix (batch.infer).

    A domain given by name is read from `domains`, else from the catalog it publishes to (else, with
    nothing to publish to, from the settings' seed)."""
    say = progress or (lambda _message: None)
    own_client = None
    if publish and client is None:
        client = own_client = CatalogClient.from_settings(settings)
    try:
        if client is not None:
            client.session_info()  # fail before the Spark job when the catalog is unreachable or refuses us
        spec = _resolve(settings, domain, domains, client)
        choice = engine_choice(settings)
        session = spark or spark_session(settings, master=master, app_name=f"deid-infer-{spec.name}")
        try:
            if reader is not None:
                say(f"{spec.name}: phase 1/3 reading and profiling files")
                result = reader(session, say)
            else:
                say(f"{spec.name}: phase 1/3 reading and profiling {spec.raw_topic}")
                result = infer_domain(settings, spec, session, sample=sample, max_events=max_events, progress=say)
            if result.corrupt:
                shapes = ", ".join(
                    f"{e.reason} {e.shape} at {e.partition}:{e.offset}" for e in result.profile.corrupt_examples
                )
                say(f"{spec.name}: {result.corrupt:,} corrupt record(s) skipped, e.g. {shapes}")
            say(f"{spec.name}: phase 2/3 classifying sampled values on the executors ({choice.describe()})")
            classify(session, result, analyzer_factory or _default_analyzer_factory(settings), thresholds, progress=say)
        finally:
            if spark is None:
                session.stop()
        policy = draft_policy(spec, result.decisions)
        outcome = RunOutcome(spec, result, policy, engine=choice.describe())
        if client is not None:
            started = time.perf_counter()
            say(f"{spec.name}: phase 3/3 publishing the schema, {len(result.decisions)} field tags and a draft policy")
            outcome.schema_id, outcome.schema_version = register_raw_schema(settings, result)
            outcome.report = publish_to_catalog(client, result, settings.cluster, outcome.schema_version)
            client.suggest_policy(spec.name, policy)
            result.timings["publish"] = round(time.perf_counter() - started, 3)
            report = outcome.report
            say(
                f"{spec.name}: published {report.schema} (registry id {outcome.schema_id}), {report.fields} fields "
                f"({report.created} new), {report.classified} tags"
                + (f", {len(report.removed)} stale suggestion(s) removed" if report.removed else "")
                + (f", steward decisions kept on {', '.join(report.steward_kept)}" if report.steward_kept else "")
                + "; draft policy suggested"
            )
        return outcome
    finally:
        if own_client is not None:
            own_client.close()


def thresholds_from(share: float | None, share_with_name: float | None) -> Thresholds:
    """Thresholds with the CLI's overrides; a share outside (0, 1] is a usage error."""
    from dataclasses import replace

    changes: dict[str, Any] = {}
    for name, value in (("share", share), ("share_with_name", share_with_name)):
        if value is None:
            continue
        if not 0 < value <= 1:
            raise ConfigError(f"--min-{name.replace('_', '-')} must be in (0, 1] (got {value:g})")
        changes[name] = value
    return replace(DEFAULT_THRESHOLDS, **changes)
