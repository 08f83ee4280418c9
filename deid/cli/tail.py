"""`deid tail TOPIC`: print records as JSON lines."""

from __future__ import annotations

import sys

import click

from deid.cli import DeidContext, pass_deid, side_option
from deid.kafka import Side, make_registry_client, reachable_admin
from deid.tail import RegistryAvroDecoder, TailOptions, render, tail


@click.command("tail")
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest record, not the newest.")
@click.option("--max", "max_records", type=click.IntRange(min=1), help="Stop after N records.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after S seconds without a new record.")
@click.option("--with-meta", is_flag=True, help="Wrap each as {key, headers, partition, offset, value}.")
@side_option
@pass_deid
def tail_command(
    deid: DeidContext,
    topic: str,
    from_beginning: bool,
    max_records: int | None,
    timeout: float | None,
    with_meta: bool,
    side: Side,
) -> int:
    """Print TOPIC's records, one JSON value per line on stdout (count on stderr).

    Confluent-framed Avro values are decoded through the schema registry (DEID_SCHEMA_REGISTRY_URL,
    default the catalog's /registry); a value that cannot be decoded prints as a marker that says why.
    """
    settings = deid.settings
    reachable_admin(settings, side)
    options = TailOptions(topic, from_beginning, max_records, timeout, side)
    decoder = RegistryAvroDecoder(lambda: make_registry_client(settings))
    count = 0
    try:
        for message in tail(settings, options):
            sys.stdout.write(render(message, with_meta, decoder) + "\n")
            sys.stdout.flush()
            count += 1
    except BrokenPipeError:  # e.g. `deid tail … | head`
        sys.stderr.close()
        return 0
    click.echo(f"{count} record(s) from {topic}", err=True)
    return 0
