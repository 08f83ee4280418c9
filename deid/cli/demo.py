"""`deid demo`: the whole flow on the embedded stack (what `./scripts/demo` runs)."""

from __future__ import annotations

import sys

import click

from deid.cli import DeidContext, pass_deid


@click.command("demo")
@click.option("--events", type=click.IntRange(min=1), default=2000, show_default=True, help="Events per domain.")
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Demo mode: tags suggested at or above this confidence are confirmed without review.",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the workers running (default: they stop once caught up; Kafka and the catalog stay up).",
)
@click.option("--sample", type=click.IntRange(min=10), default=400, show_default=True, help="Values per field.")
@click.option("--master", default="local[2]", show_default=True, help="Spark master for inference.")
@click.option("--domain", "domains", multiple=True, help="Only these domains (repeatable; default all).")
@click.option(
    "--batch",
    is_flag=True,
    help="Add the batch step: memo and clickstream files in an EU bucket (MinIO) anonymised into a US bucket "
    "(on by default when DEID_STORAGE_LOCATIONS is set).",
)
@pass_deid
def demo(
    deid: DeidContext,
    events: int,
    min_confidence: float,
    keep_running: bool,
    sample: int,
    master: str,
    domains: tuple[str, ...],
    batch: bool,
) -> None:
    """Start Kafka and the catalog, produce every domain's events, infer and tag their schemas, publish
    policies, de-identify every stream, and show raw events beside their anonymised twins.

    Every step can run again: a second run adds no events and publishes no new policy version. Progress
    goes to stderr, details to DEID_DATA_DIR/demo/demo.log; a failure names the step and the log.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.demo.flow import Demo, DemoOptions
    from deid.demo.report import print_summary, print_twins
    from deid.demo.steps import StepRunner
    from deid.logs import configure_file_logging

    settings = deid.settings
    log_file = (settings.data_dir / "demo" / "demo.log").resolve()
    configure_file_logging(log_file, settings.log_level)
    options = DemoOptions(events, min_confidence, keep_running, sample, master, list(domains) or None, batch)
    demo_flow = Demo(settings, options, StepRunner(log_file, total=0))
    demo_flow.runner.total = len(demo_flow.steps())
    results = demo_flow.run()
    print_twins(results, sys.stdout)
    click.echo("")
    print_summary(results)
    url = settings.catalog_url
    workers = "keep running" if keep_running else "stopped once caught up"
    click.echo(
        f"""
Suggestions at or above confidence {min_confidence:g} were confirmed without review (demo mode); in real use a
steward reviews every tag in the UI before publishing.

  steward UI:   {url}/   (user admin, password in {settings.admin_password_file.resolve()})
  topics:       .venv/bin/deid topics list
  raw events:   .venv/bin/deid tail channel-raw-data --from-beginning --max 3
  anonymised:   .venv/bin/deid tail channel-anonymised-data --from-beginning --max 3   (Avro, decoded)
  re-identify:  .venv/bin/deid reidentify channel --from-beginning --max 3
  Kafka tools:  scripts/kafka-console-consumer --bootstrap-server {settings.kafka_bootstrap} \\
                  --topic channel-raw-data --from-beginning --max-messages 3

The workers {workers}; Kafka and the catalog keep running. Stop everything: .venv/bin/deid stack down"""
    )
