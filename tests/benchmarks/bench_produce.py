"""Events/s of the channel generator alone and of generate + produce to a private embedded broker.

Generation includes everything but the send (event, JSON encoding, key, event id), so the gap between
the two rates is the cost of the producer; the produce rate runs from the first send to the last delivery
report, after a one-event warm-up. Per-domain generation rates are reported beside, with fewer events.
"""

from __future__ import annotations

from deid.domains import load_registry
from deid.kafka import make_admin, make_producer
from deid.topics import create_domain_topics
from producers.produce import produce_events, producer_overrides
from producers.registry import GENERATORS, generator_for
from producers.sources import generated_events
from tests.benchmarks.common import BenchContext, Stopwatch, embedded_broker, peak_rss_mb, print_table, progress

NAME = "produce"
DESCRIPTION = "channel events/s: generate only vs generate + produce to a private broker (200k events)"
SEED = 20240501


def _generate(domain_name: str, count: int) -> tuple[int, float]:
    """(bytes, seconds) to generate and encode `count` events of one domain (pool set-up excluded)."""
    domain = load_registry().get(domain_name)
    generator = generator_for(domain, SEED)
    size = 0
    with Stopwatch() as watch:
        for event in generated_events(generator, count, domain.subject_field):
            size += len(event.value)
    return size, watch.seconds


def run(ctx: BenchContext) -> dict[str, object]:
    count = ctx.count(200_000, 2_000)
    domain = load_registry().get("channel")

    progress(f"generating {count:,} channel events")
    generate_bytes, generate_seconds = _generate("channel", count)

    per_domain_count = ctx.count(20_000, 200)
    by_domain = {}
    for name in GENERATORS:
        progress(f"generating {per_domain_count:,} {name} events")
        _bytes, seconds = _generate(name, per_domain_count)
        by_domain[name] = round(per_domain_count / seconds)

    with embedded_broker() as settings:
        create_domain_topics(make_admin(settings), [domain])
        producer = make_producer(settings, **producer_overrides(settings))
        # Warm-up (not timed): the idempotent producer fetches its producer id and the topic's metadata.
        produce_events(producer, domain.raw_topic, generated_events(generator_for(domain, SEED + 1), 1, None))
        generator = generator_for(domain, SEED)
        progress(f"generating and producing {count:,} channel events to {domain.raw_topic}")
        stats = produce_events(producer, domain.raw_topic, generated_events(generator, count, domain.subject_field))
    produce_seconds = stats.seconds  # from the first send to the last delivery report
    if stats.failed:
        ctx.notes.append(f"{stats.failed} deliveries failed: {stats.errors}")

    result: dict[str, object] = {
        "events": count,
        "generate_eps": round(count / generate_seconds),
        "generate_seconds": round(generate_seconds, 3),
        "produce_eps": round(count / produce_seconds),
        "produce_seconds": round(produce_seconds, 3),
        "bytes": generate_bytes,
        "produced_bytes": stats.bytes,
        "delivered": stats.delivered,
        "failed": stats.failed,
        "generate_eps_by_domain": by_domain,
        "peak_rss_mb": peak_rss_mb(),
    }
    print_table(
        ["measure", "events", "seconds", "events/s"],
        [
            ("generate (channel)", count, result["generate_seconds"], result["generate_eps"]),
            ("generate + produce", count, result["produce_seconds"], result["produce_eps"]),
            *[(f"generate ({name})", per_domain_count, None, eps) for name, eps in by_domain.items()],
        ],
    )
    return result
