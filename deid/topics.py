"""Create and list deid's topics idempotently through the Kafka admin API."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from deid.domains import Domain
from deid.errors import DeidError


@dataclass(frozen=True)
class TopicResult:
    topic: str
    status: str  # "created" | "exists"
    partitions: int


def create_domain_topics(
    admin: AdminClient,
    domains: list[Domain],
    partitions: int = 1,
    replication_factor: int = 1,
    timeout: float = 30.0,
) -> list[TopicResult]:
    """Create every domain's raw, anonymised and DLQ topics; existing ones are left as they are."""
    if partitions < 1:
        raise DeidError("--partitions must be at least 1")
    names = [topic for domain in domains for topic in domain.topics]
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [NewTopic(n, partitions, replication_factor) for n in names if n not in existing]
    results = {n: TopicResult(n, "exists", len(existing[n].partitions)) for n in names if n in existing}
    futures = admin.create_topics(wanted, operation_timeout=timeout, request_timeout=timeout) if wanted else {}
    for name, future in futures.items():
        try:
            future.result()
            results[name] = TopicResult(name, "created", partitions)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:  # another process won the race
                raise DeidError(f"could not create topic {name}: {error.str()}") from None
            results[name] = TopicResult(name, "exists", partitions)
    return [results[n] for n in names]


def list_topics(admin: AdminClient, timeout: float = 10.0) -> dict[str, int]:
    """Topic name → partition count, internal topics left out."""
    metadata = admin.list_topics(timeout=timeout)
    return {name: len(topic.partitions) for name, topic in sorted(metadata.topics.items()) if not name.startswith("__")}
