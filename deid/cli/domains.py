"""`deid domains`: the domain registry in force."""

from __future__ import annotations

import json

import click

from deid.cli import DeidContext, pass_deid
from deid.domains import load_registry
from deid.output import print_table


@click.group()
def domains() -> None:
    """Inspect the domain registry (built-in domains plus the config file's `domains:`)."""


@domains.command("list")
@pass_deid
def list_domains(deid: DeidContext) -> None:
    """One line per domain: subject, consent and event-time fields, topics."""
    registry = load_registry(deid.settings)
    rows = [
        (
            d.name,
            d.subject_field or "-",
            d.consent.field if d.consent else "-",
            d.event_time_field or "-",
            len(d.fields),
            d.raw_topic,
        )
        for d in registry
    ]
    print_table(["domain", "subject", "consent", "event time", "fields", "raw topic"], rows)


@domains.command("show")
@click.argument("name")
@pass_deid
def show_domain(deid: DeidContext, name: str) -> None:
    """Print one domain's full definition as JSON."""
    domain = load_registry(deid.settings).get(name)
    body = domain.model_dump(mode="json")
    body["topics"] = {"raw": domain.raw_topic, "anonymised": domain.anonymised_topic, "dlq": domain.dlq_topic}
    click.echo(json.dumps(body, indent=2))
