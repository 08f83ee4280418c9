"""`deid infer DOMAIN`: infer a raw topic's schema with Spark, tag its personal-data fields, publish both."""

from __future__ import annotations

import click

from deid.cli import DeidContext, pass_deid
from schema_inference.profile import DEFAULT_SAMPLE


@click.command("infer")
@click.argument("domain_name", metavar="DOMAIN")
@click.option("--master", help="Spark master: local[N] or spark://host:port (default: DEID_SPARK_MASTER, local[*]).")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=DEFAULT_SAMPLE,
    show_default=True,
    help="Values sampled per field (reservoir) for classification.",
)
@click.option(
    "--max-events", type=click.IntRange(min=1), help="Read only the first M events (default: earliest to latest)."
)
@click.option(
    "--min-share",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of sampled values an entity needs to tag a field (default 0.6).",
)
@click.option(
    "--min-share-with-name",
    type=click.FloatRange(0, 1, min_open=True),
    help="... when the field's name points to that entity (default 0.3).",
)
@click.option(
    "--input",
    "input_uri",
    help="Infer from the files of this bucket prefix or folder (s3a://bucket/prefix/, batch formats) instead of "
    "the raw topic; tags land on the domain's fields, shared with its stream.",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Register the schema and publish tags and the draft policy to the catalog (--no-publish: report only).",
)
@pass_deid
def infer(
    deid: DeidContext,
    domain_name: str,
    master: str | None,
    sample: int,
    max_events: int | None,
    min_share: float | None,
    min_share_with_name: float | None,
    publish: bool,
    input_uri: str | None,
) -> None:
    """Infer DOMAIN's raw schema from <domain>-raw-data and tag its personal-data fields.

    Reads the topic from earliest to latest with Spark, profiles every record (types, nullability, date
    formats; corrupt records are counted, never shown), samples each field's values and classifies them with
    deid's Presidio analyzer on the executors. Then registers the schema under <topic>-value, publishes the
    topic, its fields and their suggested tags (with masked evidence) to the catalog, and suggests a draft
    policy. A steward's confirmed or rejected tags are never overwritten. Progress goes to stderr; the
    summary table (field, type, entity, confidence, suggested treatment) to stdout.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from schema_inference.run import run_inference, thresholds_from
    from schema_inference.summary import print_summary

    reader = None
    if input_uri is not None:
        from batch.infer import infer_files

        spec = (deid.domains if publish else deid.domains_or_seed).get(domain_name)

        def reader(spark, say):  # type: ignore[no-untyped-def]
            return infer_files(deid.settings, spec, spark, input_uri, sample=sample, progress=say)

    outcome = run_inference(
        deid.settings,
        domain_name,
        reader=reader,
        master=master,
        sample=sample,
        max_events=max_events,
        thresholds=thresholds_from(min_share, min_share_with_name),
        publish=publish,
        domains=deid.domains if publish else deid.domains_or_seed,
    )
    print_summary(outcome.result, outcome.domain)
    if outcome.report is None:
        click.echo("not published (--no-publish)")
    else:
        click.echo(
            f"published to the catalog as {outcome.report.schema}; review the tags, then "
            f"`deid policy approve {domain_name}` or the steward UI, and `deid policy publish {domain_name}`"
        )
