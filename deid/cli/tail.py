"""`deid tail TOPIC`: print records as JSON lines."""

from __future__ import annotations

import sys

import click

from deid.cli import DeidContext, pass_deid
from deid.kafka import Side, ensure_reachable, make_admin
from deid.tail import TailOptions, render, tail


@click.command("tail")
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest record, not the newest.")
@click.option("--max", "max_records", type=click.IntRange(min=1), help="Stop after N records.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after S seconds without a new record.")
@click.option("--with-meta", is_flag=True, help="Wrap each as {key, headers, partition, offset, value}.")
@click.option(
    "--out",
    "out_side",
    is_flag=True,
    help="Read from the anonymised-side cluster (DEID_KAFKA_BOOTSTRAP_OUT).",
)
@pass_deid
def tail_command(
    deid: DeidContext,
    topic: str,
    from_beginning: bool,
    max_records: int | None,
    timeout: float | None,
    with_meta: bool,
    out_side: bool,
) -> int:
    """Print TOPIC's records, one JSON value per line on stdout (count on stderr)."""
    settings = deid.settings
    side_name: Side = "out" if out_side else "raw"
    ensure_reachable(make_admin(settings, side_name), settings, side_name)
    options = TailOptions(topic, from_beginning, max_records, timeout, side_name)
    count = 0
    try:
        for message in tail(settings, options):
            sys.stdout.write(render(message, with_meta) + "\n")
            sys.stdout.flush()
            count += 1
    except BrokenPipeError:  # e.g. `deid tail … | head`
        sys.stderr.close()
        return 0
    click.echo(f"{count} record(s) from {topic}", err=True)
    return 0
