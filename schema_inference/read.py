"""Read a raw topic with Spark's Kafka source, between offsets planned up front.

The plan asks the broker for each partition's low and high watermark; `--max-events` is spread over the
partitions (the earliest records of each, fairly: a short partition's unused share goes to the others), so
a bounded read never scans more than it keeps. Spark then reads exactly those ranges.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException, TopicPartition

from deid.errors import DeidError
from deid.kafka import make_consumer, reachable_admin
from deid.settings import Settings

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

# Each record crosses to Python as one byte string: partition (4 bytes), offset (8), 1 if the value is not
# null, then the value. Pickled Rows cost ~3x the Kafka read itself; framed bytes cost little more than it.
HEADER = struct.Struct(">iqB")
_FRAME_SQL = (
    "concat(unhex(lpad(hex(partition), 8, '0')), unhex(lpad(hex(offset), 16, '0')), "
    "if(value IS NULL, X'00', X'01'), coalesce(value, X'')) AS framed"
)


@dataclass(frozen=True)
class PartitionRange:
    """Offsets [start, end) of one partition."""

    partition: int
    start: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.start


def bound_ranges(available: list[PartitionRange], max_events: int | None) -> list[PartitionRange]:
    """The first `max_events` records over all partitions, shared as evenly as the partitions allow."""
    if max_events is None:
        return list(available)
    if max_events < 1:
        raise ValueError("max_events must be at least 1")
    remaining, taken = max_events, {}
    by_size = sorted(available, key=lambda r: (r.count, r.partition))
    for position, partition in enumerate(by_size):
        share = -(-remaining // (len(by_size) - position))  # ceiling: the shortest partitions go first
        take = min(partition.count, share)
        taken[partition.partition] = take
        remaining -= take
    return [PartitionRange(r.partition, r.start, r.start + taken[r.partition]) for r in available]


def plan_offsets(
    settings: Settings, topic: str, max_events: int | None = None, timeout: float = 10.0
) -> list[PartitionRange]:
    """Per-partition offset ranges to read: everything, or the first `max_events` records."""
    admin = reachable_admin(settings, timeout=timeout)
    metadata = admin.list_topics(topic, timeout=timeout).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise DeidError(
            f"topic {topic} does not exist on {settings.kafka_bootstrap}; produce events to it first "
            "(or create it with `deid topics create`)"
        )
    consumer = make_consumer(settings, group_id=f"deid-infer-plan-{uuid.uuid4().hex[:8]}")
    try:
        available = []
        for partition in sorted(metadata.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
            available.append(PartitionRange(partition, low, high))
    except KafkaException as exc:
        raise DeidError(f"could not read the offsets of {topic}: {exc.args[0].str() if exc.args else exc}") from None
    finally:
        consumer.close()
    return bound_ranges(available, max_events)


def read_raw(spark: SparkSession, settings: Settings, topic: str, ranges: list[PartitionRange]) -> DataFrame:
    """A DataFrame of (value, partition, offset) for the records in `ranges` (value is binary)."""
    wanted = [r for r in ranges if r.count > 0]
    if not wanted:
        raise ValueError("nothing to read: every range is empty")
    reader = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("assign", json.dumps({topic: [r.partition for r in wanted]}))
        .option("startingOffsets", json.dumps({topic: {str(r.partition): r.start for r in wanted}}))
        .option("endingOffsets", json.dumps({topic: {str(r.partition): r.end for r in wanted}}))
        # Split each partition once per core: every core works even on a one-partition topic, and the task
        # count is a multiple of the cores (3 tasks on 2 cores would leave one core idle half the time).
        .option("minPartitions", str(_task_count(spark.sparkContext.defaultParallelism, len(wanted))))
        # Records deleted by retention between planning and reading are skipped, not a failure.
        .option("failOnDataLoss", "false")
    )
    # The same pass-through client properties as every other client (security.protocol, sasl.*, …).
    for key, value in settings.kafka_properties.items():
        reader = reader.option(f"kafka.{key}", value)
    return reader.load().select("value", "partition", "offset")


def _task_count(cores: int, partitions: int) -> int:
    return min(cores * partitions, max(partitions, 8 * cores))


def framed_records(frame: DataFrame) -> RDD[bytes]:
    """The (value, partition, offset) frame as an RDD of framed byte strings (see HEADER): the path
    DataFrame.toJSON takes (a JavaRDD of byte arrays, length-prefixed), without a Row per record."""
    from pyspark.core.rdd import RDD
    from pyspark.serializers import UTF8Deserializer

    session = frame.sparkSession
    binary = session._jvm.org.apache.spark.sql.Encoders.BINARY()  # type: ignore[union-attr]
    java_rdd = getattr(frame.selectExpr(_FRAME_SQL)._jdf, "as")(binary).toJavaRDD()
    return RDD(java_rdd, session.sparkContext, UTF8Deserializer(use_unicode=False))


def unframe(records: Iterable[bytes]) -> Iterator[tuple[bytes | None, int, int]]:
    """Framed byte strings → (value or None, partition, offset)."""
    unpack, size = HEADER.unpack_from, HEADER.size
    for record in records:
        partition, offset, present = unpack(record)
        yield (record[size:] if present else None), partition, offset
