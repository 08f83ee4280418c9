"""The end-of-run summary: one row per field path (type, nulls, format, …, and the entity once classified).

Never shows sampled values: only counts, types, formats and lengths.
"""

from __future__ import annotations

import click

from deid.cli.output import print_table
from schema_inference.classify import suggested_treatment
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


def summary_rows(result: InferenceResult, has_subject: bool = True) -> list[tuple[str, ...]]:
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
                suggested_treatment(decision, has_subject) if decision else "",
            )
        )
    return rows


def print_summary(result: InferenceResult, has_subject: bool = True) -> None:
    """The summary table on stdout, then one line of counts and timings."""
    print_table(HEADERS, summary_rows(result, has_subject))
    profile = result.profile
    corrupt = f", {profile.corrupt:,} corrupt" if profile.corrupt else ""
    click.echo(
        f"\n{result.topic}: {profile.events:,} events ({profile.valid:,} valid{corrupt}); "
        f"{result.timings.get('total', 0):.1f} s, {result.events_per_second:,.0f} events/s profiled"
    )
