"""`deid batch run DOMAIN --input URI --output URI`: de-identify the files of a bucket prefix or folder on Spark."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from batch.job import execute_batch, prepare_batch
from batch.lineage import record_batch_lineage
from catalog.client import CatalogUnavailable
from deid.cli import DeidContext, pass_deid
from deid.domains import load_registry
from deid.errors import ConfigError
from pipelines.catalog_binding import CatalogPolicySource, catalog_client, pii_tags
from pipelines.policy_source import FilePolicySource
from schema_inference.spark import spark_session

FORMAT_CHOICES = ("jsonl", "csv", "parquet", "text")


@click.group("batch")
def batch() -> None:
    """Batch de-identification: files in a raw bucket (or folder) → dated anonymised outputs, with a manifest."""


@batch.command("run")
@click.argument("domain_name", metavar="DOMAIN")
@click.option("--input", "input_uri", required=True, help="Raw files: s3a://bucket/prefix/ or a local folder.")
@click.option(
    "--output", "output_uri", required=True, help="Where anonymised outputs go: s3a://bucket/prefix/ or a folder."
)
@click.option(
    "--quarantine",
    "quarantine_uri",
    help="Raw-side prefix for bad rows and unreadable files (default: INPUT/_quarantine/).",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMAT_CHOICES), help="Read every file as this format (default: by extension)."
)
@click.option(
    "--policy-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A reviewed, published policy document instead of the catalog's latest published version.",
)
@click.option("--master", help="Spark master (default DEID_SPARK_MASTER, local[*]).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts as JSON.")
@pass_deid
def run(
    deid: DeidContext,
    domain_name: str,
    input_uri: str,
    output_uri: str,
    quarantine_uri: str | None,
    fmt: str | None,
    policy_file: Path | None,
    master: str | None,
    as_json: bool,
) -> None:
    """Apply DOMAIN's published policy to every new file under --input; write OUTPUT/anonymised/DOMAIN/<date>/
    <time>/run-<id>/part-… (purposes: OUTPUT/<purpose>/DOMAIN/…) and _manifest.json. Files an earlier run
    processed are skipped. The region guard refuses (exit 2) output outside the input's region, or on the
    anonymised side, while a rule keeps a PII-tagged field in clear without an exemption.

    Locations, their regions, sides and endpoints: DEID_STORAGE_LOCATIONS; credentials: DEID_S3_ACCESS_KEY,
    DEID_S3_SECRET_KEY.
    """

    settings = deid.settings
    # The domain comes from where the policy comes from: the catalog, or (policy as code) the config.
    domain = (deid.domains if policy_file is None else load_registry(settings)).get(domain_name)
    policy, client = _policy(settings, domain_name, policy_file)
    pii = _pii(client, domain.raw_topic, settings.cluster)
    prepared = prepare_batch(  # the region guard, before Spark starts
        settings, domain, policy, input_uri, output_uri, quarantine_uri=quarantine_uri, fmt=fmt, pii=pii
    )
    spark = spark_session(settings, master=master, app_name=f"deid-batch-{domain_name}")
    try:
        report = execute_batch(
            spark, settings, prepared, progress=lambda message: click.echo(f"batch: {message}", err=True)
        )
    finally:
        spark.stop()
    if client is not None:
        record_batch_lineage(client, settings, prepared, report)
    if report.exempted and client is not None:
        client.record_audit(
            "REGION_EGRESS",
            type_name="deid_policy",
            details={
                "domain": domain_name,
                "input": input_uri,
                "output": output_uri,
                "run": report.run_id,
                "exempted": report.exempted,
                "policy_version": policy.version,
            },
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "manifest": report.manifest,
                    "skipped": report.skipped,
                    "exempted": report.exempted,
                    **report.counts,
                },
                indent=2,
            )
        )
    elif report.run_id is None:
        click.echo(f"{domain_name}: nothing new under {input_uri} ({len(report.skipped)} file(s) already processed)")
    else:
        c = report.counts
        click.echo(
            f"{domain_name}: run {report.run_id}: {c['files']} file(s), {c['rows_in']} row(s) in, {c['rows_out']} out, "
            f"{c['quarantined']} quarantined, {len(report.skipped)} file(s) skipped; manifest {report.manifest}"
        )


def _policy(settings: Any, domain: str, policy_file: Path | None) -> tuple[Any, Any]:
    """(published policy, catalog client or None): from the file, else the catalog's latest published one."""

    client = None
    try:
        client = catalog_client(settings)
    except ConfigError:
        if policy_file is None:
            raise
    if policy_file is not None:
        return FilePolicySource(policy_file).latest_published(domain), client
    policy = CatalogPolicySource(client).latest_published(domain)
    if policy is None:
        raise ConfigError(
            f"domain {domain!r} has no published policy in the catalog; publish one or pass --policy-file"
        )
    return policy, client


def _pii(client: Any, topic: str, cluster: str) -> dict[str, str] | None:
    """The catalog's PII tags of the domain's fields; None (every kept field counts as PII) without a catalog."""
    if client is None:
        return None

    try:
        return pii_tags(client, topic, cluster)
    except CatalogUnavailable:
        print(
            "batch: the catalog is not reachable: every kept field counts as PII for the region guard", file=sys.stderr
        )
        return None
