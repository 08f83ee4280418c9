"""A policy version's outputs: the anonymised schema of each output topic, registered, and its encoder.

The main output is `<domain>-anonymised-data` (subject `<domain>-anonymised-data-value`, TopicNameStrategy),
each purpose `<domain>-<purpose>-data` (subject `<topic>-value`). Schemas are registered once per policy
version; the ids come back into the Confluent frame of every record. Missing output topics (and the DLQ)
are created with the raw topic's partition count.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from deid.domains import Domain
from deid.errors import DeidError
from deid.policy import Policy
from pipelines.avro import ConfluentAvroEncoder, anonymised_schema

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient


def output_topics(policy: Policy, domain: Domain) -> dict[str, str | None]:
    """Output topic → purpose name (None for the main anonymised output)."""
    topics: dict[str, str | None] = {domain.anonymised_topic: None}
    topics.update({policy.purpose_topic(p): p.name for p in policy.purposes})
    return topics


def register_encoders(
    policy: Policy, domain: Domain, registry: SchemaRegistryClient, fpe_key_id: str | None = None
) -> dict[str, ConfluentAvroEncoder]:
    """An encoder per output topic, its schema registered under `<topic>-value` (naming the FPE key in use)."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    encoders = {}
    for topic, purpose in output_topics(policy, domain).items():
        schema = anonymised_schema(domain, policy, purpose, fpe_key_id=fpe_key_id)
        subject = f"{topic}-value"
        try:
            schema_id = registry.register_schema(subject, Schema(json.dumps(schema), "AVRO"))
        except SchemaRegistryError as exc:
            raise DeidError(
                f"the schema registry refused the anonymised schema of policy {policy.domain} v{policy.version} "
                f"under {subject} (HTTP {exc.http_status_code}, error {exc.error_code}: {exc.error_message})"
            ) from None
        except Exception as exc:  # transport errors; the URL may hold credentials, so it is not shown
            raise DeidError(
                f"the schema registry is unreachable ({type(exc).__name__}) while registering {subject}; "
                "check DEID_SCHEMA_REGISTRY_URL (default: the catalog's /registry) and that it runs"
            ) from None
        encoders[topic] = ConfluentAvroEncoder(schema, schema_id)
    return encoders


def partition_count(admin: AdminClient, topic: str) -> int | None:
    metadata = admin.list_topics(timeout=10).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return None
    return len(metadata.partitions)


def ensure_topics(admin: AdminClient, topics: list[str], partitions: int) -> list[str]:
    """Create the topics that do not exist yet; the names created."""
    existing = admin.list_topics(timeout=10).topics
    wanted = [NewTopic(t, partitions, -1) for t in topics if t not in existing]  # -1: the broker default RF
    if not wanted:
        return []
    created = []
    for name, future in admin.create_topics(wanted, operation_timeout=30, request_timeout=30).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise DeidError(f"could not create topic {name}: {error.str()}") from None
    return created
