"""`deid stack`: start, inspect and stop the embedded local stack."""

from __future__ import annotations

import json

import click

from deid.cli import DeidContext, pass_deid, side_option
from deid.kafka import Side
from deid.stack import services

EXIT_NOT_RUNNING = 3


@click.group()
def stack() -> None:
    """The embedded local stack: a single-node Kafka broker, the catalog and the de-identification workers.

    State, logs and pid files live under DEID_DATA_DIR; data survives `down` and `up`.
    """


@stack.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=90,
    show_default=True,
    help="Seconds to wait for each service to answer.",
)
@pass_deid
def up(deid: DeidContext, timeout: float) -> None:
    """Start every service in the background (idempotent) and wait until each answers."""
    stack_services = services(deid.settings)
    for service in stack_services:
        preflight = getattr(service, "preflight", None)
        if preflight is not None:
            preflight()  # refuse before starting anything, not after Kafka is up
    for service in stack_services:
        click.echo(f"{service.name}: starting…", err=True)
        click.echo(f"{service.name}: {service.start(timeout)}")


@stack.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_deid
def status(deid: DeidContext, as_json: bool) -> int:
    """Show each service; exit code 3 when any is not running."""
    states = {s.name: s.status() for s in services(deid.settings)}
    if as_json:
        click.echo(json.dumps({name: {"running": up, "detail": detail} for name, (up, detail) in states.items()}))
    else:
        for name, (_, detail) in states.items():
            click.echo(f"{name}: {detail}")
    return 0 if all(up for up, _ in states.values()) else EXIT_NOT_RUNNING


@stack.command()
@pass_deid
def down(deid: DeidContext) -> None:
    """Stop every service (data is kept)."""
    for service in reversed(services(deid.settings)):
        click.echo(f"{service.name}: {service.stop()}")


@stack.command()
@side_option
@click.option("--timeout", type=click.FloatRange(min=1), default=30, show_default=True)
@pass_deid
def check(deid: DeidContext, side: Side, timeout: float) -> None:
    """Produce a probe record to `deid-stack-check` and read it back (prints the round trip as JSON)."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.stack.check import round_trip

    result = round_trip(deid.settings, side, timeout)
    click.echo(
        json.dumps(
            {
                "topic": result.topic,
                "partition": result.partition,
                "offset": result.offset,
                "round_trip_ms": round(result.seconds * 1000, 1),
                "value": result.value,
            }
        )
    )
