"""A batch produced but not committed yet, and why a worker keeps one.

Committing a batch waits for the broker to acknowledge every output (at-least-once: a flush; exactly-once:
the transaction's commit), a sixth of a backlog's wall time when it waited in line. So the worker treats
the next batch first and commits the produced one after, while librdkafka delivers it in the background:

    treat N+1  →  commit N (flush, offsets / transaction)  →  produce N+1  →  …

A batch's offsets are still committed only after all its outputs are acknowledged, and nothing of N+1 is
produced before N is committed (one transaction at a time). The batch in flight is committed as soon as
the worker has nothing else to do: no record waiting, stopping, its partitions revoked, a new policy or
key; if the commit of N fails, N and N+1 are both read again. A lost partition (another worker owns it
already) or a fenced consumer drops it uncommitted (read again, never lost). With k-anonymity
suppression there is no overlap: a suppressor's counts must be committed batch by batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Message, TopicPartition

from pipelines.dlq import Rejection
from pipelines.plan import Plan


@dataclass
class InFlight:
    """What committing a produced batch needs, and what the worker reports once it is committed."""

    messages: list[Message]
    offsets: list[TopicPartition]
    plan: Plan
    records_in: int
    last: dict[int, int]
    """Partition → its last offset in the batch."""
    ends: list[tuple[int, int]]
    out_by_topic: dict[str, int]
    rejected: list[tuple[Message, Rejection]]
    skipped_before: list[int]
    """Each purpose's skipped count before the batch (restored if its commit fails)."""
    started: float
    """When the batch's processing began (perf_counter)."""
