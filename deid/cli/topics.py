"""`deid topics`: create and list the raw, anonymised and DLQ topics."""

from __future__ import annotations

import click

from deid.cli import DeidContext, pass_deid
from deid.kafka import reachable_admin
from deid.output import print_table
from deid.topics import create_domain_topics, list_topics


@click.group()
def topics() -> None:
    """Create and list deid's Kafka topics."""


@topics.command("create")
@click.option("--domain", "-d", "names", multiple=True, help="Domain to create topics for (repeatable).")
@click.option("--all", "all_domains", is_flag=True, help="Every domain in the registry.")
@click.option("--partitions", "-p", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--replication-factor", "-r", type=click.IntRange(min=1), default=1, show_default=True)
@pass_deid
def create(
    deid: DeidContext, names: tuple[str, ...], all_domains: bool, partitions: int, replication_factor: int
) -> None:
    """Create <domain>-raw-data, <domain>-anonymised-data and <domain>-dlq (idempotent)."""
    if bool(names) == all_domains:
        raise click.UsageError("give --domain D (one or more) or --all")
    domains = deid.domains_or_seed  # the catalog's, else the seed: topics are often made before the catalog runs
    selected = [domains.get(n) for n in names] if names else list(domains.registry())
    admin = reachable_admin(deid.settings)
    results = create_domain_topics(admin, selected, partitions, replication_factor)
    print_table(["topic", "status", "partitions"], [(r.topic, r.status, r.partitions) for r in results])


@topics.command("list")
@pass_deid
def list_command(deid: DeidContext) -> None:
    """List topics on the raw-side cluster with their partition counts."""
    admin = reachable_admin(deid.settings)
    print_table(["topic", "partitions"], list(list_topics(admin).items()))
