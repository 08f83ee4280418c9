"""The end-of-run summary: one row per field path (type, nulls, format, …, the entity, its confidence and the
suggested treatment once classified), then the corrupt records' masked evidence and one line of counts.

Never shows sampled values: only counts, types, formats, lengths and masked shapes.
"""

from __future__ import annotations

import click

from deid.domains import Domain
from deid.output import print_table
from schema_inference.draft import field_rule
from schema_inference.job import InferenceResult
from schema_inference.stats import FieldProfile

HEADERS = ("field", "type", "null", "format", "distinct", "length", "entity", "confidence", "treatment")


def type_label(profile: FieldProfile) -> str:
    """A short type: "string", "long|string", "array<int>", "map<double>", "record"."""
    labels = []
    for kind in [k for k in profile.types if k != "null"] or ["null"]:
        if kind == "array":
            labels.append(f"array<{type_label(profile.items) if profile.items else 'null'}>")
        elif kind == "map":
            labels.append(f"map<{type_label(profile.values) if profile.values else 'null'}>")
        else:
            labels.append(kind)
    return "|".join(labels)


def summary_rows(result: InferenceResult, domain: Domain) -> list[tuple[str, ...]]:
    rows = []
    for profile in result.profile.walk():
        absent = profile.nulls + profile.missing
        fmt = profile.format or ""
        if profile.format_alternatives:
            fmt += f" (or {', '.join(profile.format_alternatives)})"
        strings = "string" in profile.types
        distinct = "" if not strings else ">1,000" if profile.distinct is None else f"{profile.distinct:,}"
        length = f"{profile.length_min}-{profile.length_max}" if strings else ""
        decision = result.decisions.get(profile.path)
        treatment = ""
        if decision:
            rule = field_rule(decision, domain, profile)
            treatment = rule.treatment
            entities = getattr(rule.params, "entities", None)
            if entities:
                treatment += f" ({', '.join(entities)})"
        rows.append(
            (
                profile.path,
                type_label(profile),
                f"{absent / max(1, profile.count + profile.missing):.0%}" if absent else "",
                fmt,
                distinct,
                length,
                decision.entity if decision else "",
                f"{decision.confidence:.2f}" if decision else "",
                treatment,
            )
        )
    return rows


def print_summary(result: InferenceResult, domain: Domain) -> None:
    """The summary table on stdout, the corrupt records' masked evidence, then one line of counts and timings."""
    print_table(HEADERS, summary_rows(result, domain))
    profile = result.profile
    if profile.corrupt:
        click.echo(f"\ncorrupt records: {', '.join(f'{k}: {v:,}' for k, v in profile.corrupt_reasons.items())}")
        for example in profile.corrupt_examples:
            click.echo(f"  partition {example.partition} offset {example.offset}: {example.reason}, {example.shape}")
    corrupt = f", {profile.corrupt:,} corrupt" if profile.corrupt else ""
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items() if k != "total")
    click.echo(
        f"\n{result.topic}: {profile.events:,} events ({profile.valid:,} valid{corrupt}); "
        f"{result.timings.get('total', 0):.1f} s to the schema, {result.events_per_second:,.0f} events/s profiled"
        + (f" ({steps})" if steps else "")
    )
