"""`deid pipeline run DOMAIN`: the de-identification worker of one domain."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from deid.cli import DeidContext, pass_deid


@click.group("pipeline")
def pipeline() -> None:
    """De-identification workers: raw topic → policy → anonymised (Avro) and purpose topics."""


@pipeline.command("run")
@click.argument("domain_name", metavar="DOMAIN")
@click.option(
    "--exactly-once",
    is_flag=True,
    help="Transactions: outputs, DLQ records and offsets commit together (raw and out side must be one cluster). "
    "Default: at-least-once (offsets committed only after the broker acknowledged the batch).",
)
@click.option(
    "--until-caught-up",
    is_flag=True,
    help="Stop once every assigned partition reached the end offset it had when assigned; print a summary.",
)
@click.option(
    "--policy-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run this reviewed, published policy document (YAML/JSON) instead of the catalog's; re-read on change.",
)
@click.option("--metrics-port", type=click.IntRange(0, 65535), help="Serve Prometheus metrics on 127.0.0.1:PORT.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=20_000,
    show_default=True,
    help="The most records per batch (fewer when records are slow to treat, see --batch-seconds).",
)
@click.option(
    "--batch-seconds",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    help="Under a backlog a batch takes as many records as its recent cost per record fits in this many seconds "
    "(a commit per batch; 0: always --batch-size).",
)
@click.option(
    "--policy-poll",
    "policy_poll_seconds",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between checks for a newly published policy version.",
)
@click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Larger raw records go to the DLQ (reason too_large).",
)
@click.option(
    "--instance-id",
    default="0",
    show_default=True,
    help="This worker among the domain's workers (static group membership, transactional producer): give each "
    "live worker its own; a restarted worker with the same id takes its partitions back at once and fences "
    "(exactly-once: aborts) what its predecessor left open.",
)
@click.option("--group", "group_id", help="Consumer group (default deid-pipeline-DOMAIN).")
@click.option(
    "--session-timeout",
    "session_timeout_seconds",
    type=click.FloatRange(6, 300),
    default=10.0,
    show_default=True,
    help="Seconds without a heartbeat after which a dead worker's partitions move to the domain's other workers "
    "(a worker restarted sooner with the same --instance-id keeps them, without a rebalance).",
)
@click.option(
    "--wait-for-policy",
    is_flag=True,
    help="Wait (polling every --policy-poll seconds) until the domain has a published policy, instead of "
    "refusing to start (for services started before a steward published one).",
)
@pass_deid
def run(deid: DeidContext, domain_name: str, policy_file: Path | None, wait_for_policy: bool, **options: Any) -> None:
    """Consume <domain>-raw-data, apply the domain's published policy, produce <domain>-anonymised-data.

    The policy comes from --policy-file or the catalog; without one the worker refuses to start (exit 2).
    Records that cannot be decoded or treated go to <domain>-dlq (raw side) with the reason in headers.
    SIGTERM or Ctrl-C: the batch in hand is finished and committed, then the worker exits 0.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.domains import load_registry
    from pipelines.catalog_binding import catalog_policy_source, lineage_sink
    from pipelines.policy_source import FilePolicySource
    from pipelines.worker import Worker, WorkerOptions

    settings = deid.settings
    source = FilePolicySource(policy_file) if policy_file is not None else catalog_policy_source(settings)
    # The domain comes from where the policy comes from: the catalog, or (policy as code) the config.
    domains = deid.domains if policy_file is None else load_registry(settings)
    lineage = lineage_sink(settings)
    if wait_for_policy:
        _wait_for_policy(source, domain_name, options["policy_poll_seconds"])
    worker = Worker(settings, WorkerOptions(domain=domain_name, **options), source, lineage=lineage, domains=domains)
    previous = {sig: signal.signal(sig, lambda *_: worker.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        summary = worker.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for line in summary.lines():
        click.echo(line)


def _wait_for_policy(source: Any, domain: str, interval: float) -> None:
    """Block until `source` has a published policy for `domain`; says so once a minute."""
    import logging
    import time

    log = logging.getLogger("deid.pipeline")
    next_note = 0.0
    while source.latest_published(domain) is None:
        if time.monotonic() >= next_note:
            log.info("%s: waiting for a published policy in %s", domain, source.describe())
            next_note = time.monotonic() + 60
        time.sleep(interval)
