"""`deid risk DOMAIN`: k-anonymity of the anonymised topic over the domain's quasi-identifiers."""

from __future__ import annotations

import json

import click

from deid.cli import DeidContext, pass_deid
from deid.output import print_table

EXIT_BELOW_TARGET = 3


@click.command("risk")
@click.argument("domain_name", metavar="DOMAIN")
@click.option(
    "--last",
    type=click.IntRange(1, 1_000_000),
    default=10_000,
    show_default=True,
    help="Measure over the topic's last N records.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the tables.")
@click.option("--check", is_flag=True, help=f"Exit {EXIT_BELOW_TARGET} when min k is below the domain's target_k.")
@pass_deid
def risk(deid: DeidContext, domain_name: str, last: int, as_json: bool, check: bool) -> int:
    """Re-identification risk of DOMAIN's anonymised topic (what analysts receive).

    Groups the last records by the domain's quasi_identifiers (as they are after treatment) and prints
    the class-size histogram, the minimum k, the share of records in classes below target_k and the
    prosecutor risk (1 / min k), then which one-step generalisation of one quasi-identifier raises k
    most. Only counts are printed, never values.

    Exit codes: 0 measured; 3 with --check when min k < target_k; 2 bad option or a domain without
    quasi_identifiers; 1 Kafka or registry unreachable.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.risk_topic import topic_risk

    domain = deid.domains_or_seed.get(domain_name)
    window = topic_risk(deid.settings, domain, last)
    report, suggestions = window.report(), window.suggest()
    if as_json:
        document = {**report.to_json(), "domain": domain.name, "suggestions": [s.__dict__ for s in suggestions]}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(
            f"{domain.name}: {report.records} records of {domain.anonymised_topic}, quasi-identifiers "
            f"{', '.join(report.quasi_identifiers)}\n"
            f"min k {report.min_k} (target {report.target_k}); {report.below_target} records "
            f"({report.share_below_target:.1%}) in classes below target; prosecutor risk {report.prosecutor_risk:.3f}; "
            f"{report.classes} classes\n"
        )
        print_table(["class size", "classes"], [[size, count] for size, count in report.histogram.items()])
        if report.min_k < report.target_k and suggestions:
            click.echo("\nto raise k:")
            for suggestion in suggestions[:3]:
                click.echo(f"  {suggestion.text()}")
    return EXIT_BELOW_TARGET if check and report.records and report.min_k < report.target_k else 0
