"""`--until-caught-up`: when a worker has read everything that was there when it started.

For each partition this worker is assigned, the target is the partition's end offset (high watermark)
taken at the moment of assignment. A partition is caught up when the worker has committed up to that
offset, or its committed offset already was there, or the consumer reports the partition's end
(PARTITION_EOF at or past the target: the end can sit past the last data record, e.g. after
transaction markers). The worker stops after the batch in which every assigned partition is caught up;
records produced after the targets were taken are left for the next run. A worker that gets no
partition at all (more workers than partitions) is caught up at once. Partitions taken away by a
rebalance stop counting; partitions gained later get their own target when assigned.
"""

from __future__ import annotations

import logging

from confluent_kafka import Consumer, TopicPartition

log = logging.getLogger(__name__)


class CatchUp:
    def __init__(self) -> None:
        self.targets: dict[int, int] = {}
        self.caught_up: set[int] = set()
        self.assigned_once = False

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.assigned_once = True
        if not partitions:
            return
        committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=30)}
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(tp, timeout=30, cached=False)
            self.targets[tp.partition] = high
            self.caught_up.discard(tp.partition)
            if high <= low or committed.get(tp.partition, -1) >= high:
                self.caught_up.add(tp.partition)
        log.info("catching up to end offsets %s", {p: self.targets[p] for p in sorted(self.targets)})

    def on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self.targets.pop(tp.partition, None)
            self.caught_up.discard(tp.partition)

    def committed(self, partition: int, next_offset: int) -> None:
        target = self.targets.get(partition)
        if target is not None and next_offset >= target:
            self.caught_up.add(partition)

    def end_reached(self, partition: int, offset: int) -> None:
        target = self.targets.get(partition)
        if target is not None and offset >= target:
            self.caught_up.add(partition)

    def finished(self) -> bool:
        return self.assigned_once and all(p in self.caught_up for p in self.targets)
