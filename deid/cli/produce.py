"""`deid produce DOMAIN`: synthetic events from the domain's generator, or a JSONL file replayed."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import click

from deid.cli import DeidContext, pass_deid
from deid.domains import Domain
from deid.errors import DeidError
from deid.kafka import make_producer, reachable_admin
from deid.settings import Settings
from deid.topics import create_domain_topics
from producers.base import GeneratorOptions
from producers.produce import ProduceStats, Progress, produce_events, producer_overrides
from producers.registry import generator_class
from producers.sources import BadLine, OutgoingEvent, generated_events, key_field_for, replayed_events, scan_file

DEFAULT_COUNT = 1000
MAX_BAD_LINES_SHOWN = 20


@click.command("produce")
@click.argument("domain_name", metavar="DOMAIN")
@click.option(
    "--count", "-n", type=click.IntRange(min=0), help=f"Events to generate (default {DEFAULT_COUNT}; 0: until Ctrl-C)."
)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most this many events per second.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="The same seed gives the same events and event ids (default: random, printed in the summary).",
)
@click.option("--key-field", help="Field whose value keys the records (default: the domain's subject field).")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay this JSONL file (one JSON object per line, sent as is) instead of generating.",
)
@click.option("--topic", help="Produce to this existing topic instead of <domain>-raw-data.")
@click.option(
    "--consent-ratio",
    type=click.FloatRange(0, 1),
    help="profile: share of events with data_share_consent=true (default 0.7).",
)
@click.option(
    "--truth-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="memo: write each event's PII spans here as JSON lines {event_id, spans: [[start, end, entity], …]}.",
)
@pass_deid
def produce(
    deid: DeidContext,
    domain_name: str,
    count: int | None,
    rate: float | None,
    seed: int | None,
    key_field: str | None,
    from_file: Path | None,
    topic: str | None,
    consent_ratio: float | None,
    truth_file: Path | None,
) -> None:
    """Send DOMAIN's events to <domain>-raw-data, keyed by its subject field, each with an `event_id` header.

    Prints one summary line (events, delivered, failed, bytes, seconds, events/s) and a progress bar on a
    terminal; exits 1 if any delivery failed. Replayed lines that are not JSON objects are reported by line
    number and skipped. Domains without a subject field (memo) are keyed by the event id.
    """
    if from_file is not None:
        given = [name for name, value in (("--count", count), ("--seed", seed), ("--consent-ratio", consent_ratio),
                                          ("--truth-file", truth_file)) if value is not None]  # fmt: skip
        if given:
            raise click.UsageError(f"{', '.join(given)} cannot be combined with --from-file")
    if consent_ratio is not None and domain_name != "profile":
        raise click.UsageError("--consent-ratio applies to the profile domain only")
    settings = deid.settings
    domain = deid.domains_or_seed.get(domain_name)  # the catalog's, else the seed: producers may run first
    keyed_by = key_field_for(domain, key_field)
    stats = ProduceStats()
    events: Iterator[OutgoingEvent]

    if from_file is not None:
        scan = scan_file(from_file)
        target = _ensure_topic(settings, domain, topic)
        total: int | None = scan.lines
        events = replayed_events(from_file, scan, keyed_by, _bad_line_reporter(from_file, stats))
        what = f"replayed {from_file}"
    else:
        generator_type = generator_class(domain)
        if truth_file is not None and not generator_type.labels_spans:
            raise click.UsageError(f"--truth-file: domain {domain.name!r} has no free text with labelled spans")
        target = _ensure_topic(settings, domain, topic)
        seed = secrets.randbelow(2**31) if seed is None else seed
        options = GeneratorOptions(**({"consent_ratio": consent_ratio} if consent_ratio is not None else {}))
        generator = generator_type(domain, seed, options)
        total = DEFAULT_COUNT if count is None else count or None
        events = generated_events(generator, total, keyed_by, with_spans=truth_file is not None)
        what = f"produced {domain.name} (seed {seed})"

    producer = make_producer(settings, **producer_overrides(settings))
    progress = Progress(sys.stderr, total, domain.name) if sys.stderr.isatty() else None
    with ExitStack() as stack:
        truth: IO[str] | None = None
        if truth_file is not None:
            truth = stack.enter_context(truth_file.open("w", encoding="utf-8"))
        produce_events(producer, target, events, stats=stats, rate=rate, progress=progress, truth=truth)

    skipped = f", {stats.skipped} bad lines skipped" if from_file is not None else ""
    click.echo(
        f"{what} to {target}: {stats.produced} events, {stats.delivered} delivered, {stats.failed} failed{skipped}, "
        f"{stats.bytes} bytes in {stats.seconds:.2f} s ({stats.events_per_second:.0f} events/s)"
    )
    if stats.interrupted:
        raise click.exceptions.Abort()
    if stats.failed:
        reasons = "; ".join(f"{reason} ({n})" for reason, n in sorted(stats.errors.items(), key=lambda i: -i[1]))
        raise DeidError(f"{stats.failed} of {stats.produced} events were not delivered: {reasons}")


def _bad_line_reporter(path: Path, stats: ProduceStats) -> BadLine:
    """Counts bad lines and reports the first few on stderr (line number and reason, never the content)."""

    def report(number: int, reason: str) -> None:
        stats.skipped += 1
        if stats.skipped <= MAX_BAD_LINES_SHOWN:
            click.echo(f"deid: {path}:{number}: skipped: {reason}", err=True)
        elif stats.skipped == MAX_BAD_LINES_SHOWN + 1:
            click.echo(f"deid: {path}: more bad lines; only the first {MAX_BAD_LINES_SHOWN} are shown", err=True)

    return report


def _ensure_topic(settings: Settings, domain: Domain, topic: str | None) -> str:
    """The topic to write to. A missing domain raw topic is created with its siblings; `--topic` must exist."""
    admin = reachable_admin(settings)
    target = topic or domain.raw_topic
    if target in admin.list_topics(timeout=10).topics:
        return target
    if topic is not None:
        raise DeidError(f"topic {topic!r} does not exist; create it first")
    created = [r.topic for r in create_domain_topics(admin, [domain]) if r.status == "created"]
    click.echo(f"deid: created topics {', '.join(created)}", err=True)
    return target
