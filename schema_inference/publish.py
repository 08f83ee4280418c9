"""Publish an inference run: the raw schema to the Schema Registry, the topic's fields and their tags to the
catalog (interfaces2 §1), idempotently.

Pure builders first (qualified names, masked examples, evidence, entity and classification payloads), then
`register_raw_schema` (registry) and `publish_to_catalog` (the only function here that calls the catalog).

Catalog writes: one bulk upsert of `kafka_topic`, `avro_schema` (with its `fields`) and every `avro_field`
(qualifiedName `<raw_topic>.<path>@<cluster>`, independent of the schema version so steward decisions carry
over); then per classified field its detected classification is added or updated (the catalog keeps a
steward's confirmed/rejected decision and only refreshes its evidence) and *detected, suggested*
classifications this run no longer finds are removed. Steward-sourced or decided ones are never removed.
Evidence carries counts, shares, scores and masked examples: never a raw value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from catalog.client import CatalogClient, NotFound, assigned_guid, entity, object_id
from deid.errors import DeidError
from deid.kafka import make_registry_client
from deid.settings import Settings
from deid.tags import FREE_TEXT, NON_PII, PII
from schema_inference.classify import FieldDecision, Findings
from schema_inference.job import InferenceResult
from schema_inference.stats import FieldProfile

MAX_EXAMPLES = 3
_KEPT_SEPARATORS = frozenset(" -_.@/:+,()")
_TYPE_ORDER = ("record", "array", "map", "string", "double", "long", "int", "boolean")
PII_SUPERTYPE = PII


# --- names ----------------------------------------------------------------------------------------------


def value_subject(topic: str) -> str:
    return f"{topic}-value"


def topic_qualified_name(topic: str, cluster: str) -> str:
    return f"{topic}@{cluster}"


def schema_qualified_name(subject: str, version: int, cluster: str) -> str:
    return f"{subject}.v{version}@{cluster}"


def field_qualified_name(topic: str, path: str, cluster: str) -> str:
    return f"{topic}.{path}@{cluster}"


# --- evidence --------------------------------------------------------------------------------------------


def masked_example(value: Any, limit: int = 24) -> str:
    """A value a steward may see: up to 2 leading characters (fewer for short values), separators kept,
    every other character `*` ("Jo** ******", "us**-*****"); long values cut with their length."""
    text = value if isinstance(value, str) else json.dumps(value)
    keep = min(2, len(text) // 4)
    head = text[:limit]
    masked = head[:keep] + "".join(c if c in _KEPT_SEPARATORS else "*" for c in head[keep:])
    return masked if len(text) <= limit else f"{masked}…({len(text)} chars)"


def masked_examples(profile: FieldProfile, limit: int = MAX_EXAMPLES) -> list[str]:
    """Up to `limit` distinct masked shapes of the field's sampled values."""
    found: list[str] = []
    for value in profile.sample:
        if value is None or value == "" or isinstance(value, bool):
            continue
        shape = masked_example(value)
        if shape not in found:
            found.append(shape)
        if len(found) == limit:
            break
    return found


def evidence(decision: FieldDecision, profile: FieldProfile, findings: Findings, when: str) -> dict[str, Any]:
    """The `evidence` document of a classification (interfaces2 §1)."""
    return {
        "sampled": decision.analysed,
        "non_null": profile.count - profile.nulls,
        "share": decision.share,
        "mean_score": decision.mean_score,
        "max_score": decision.max_score,
        "name_signal": decision.name_signal,
        "entity_shares": {name: round(findings.share(name), 4) for name in sorted(findings.entities)},
        "examples": masked_examples(profile),
        "reason": decision.explanation,
        "format": profile.format,
        "role": decision.role,
        "structure": decision.signals,
        "entities_inside": list(decision.text_entities),
        "inferred_at": when,
    }


# --- payloads --------------------------------------------------------------------------------------------


def avro_type_name(profile: FieldProfile) -> str:
    """The field's type for the catalog: its date/timestamp kind, else its most common Avro type."""
    if profile.kind in ("date", "timestamp"):
        return profile.kind
    kinds = [k for k in profile.types if k != "null"]
    if not kinds:
        return "null"
    return max(kinds, key=lambda k: (profile.types[k], -_TYPE_ORDER.index(k) if k in _TYPE_ORDER else -99))


def field_placeholder(index: int) -> str:
    """The placeholder guid of the index-th field of a run's upsert (the answer maps it to the real guid)."""
    return f"-{index + 1}"


def field_entity(topic: str, profile: FieldProfile, cluster: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "qualifiedName": field_qualified_name(topic, profile.path, cluster),
        "name": profile.path,
        "type": avro_type_name(profile),
    }
    if profile.format:
        attributes["doc"] = f"{profile.kind} in format {profile.format}"
    return entity("avro_field", attributes)


def catalog_entities(
    result: InferenceResult, cluster: str, version: int, *, with_type: bool = True
) -> list[dict[str, Any]]:
    """kafka_topic, avro_schema (listing its fields) and every avro_field of the run, by qualifiedName."""
    subject = value_subject(result.topic)
    schema_name = schema_qualified_name(subject, version, cluster)
    fields = [
        {**field_entity(result.topic, profile, cluster), "guid": field_placeholder(index)}
        for index, profile in enumerate(result.profile.walk())
    ]
    if not with_type:  # a catalog whose avro_field has no plain `type` attribute (Atlas: a relationship)
        for item in fields:
            item["attributes"].pop("type")
    schema = entity(
        "avro_schema",
        {
            "qualifiedName": schema_name,
            "name": result.schema["name"],
            "namespace": result.schema.get("namespace", ""),
            "type": "record",
            "avro_notation": json.dumps(result.schema, separators=(",", ":")),
            "versionId": str(version),
        },
        relationship_attributes={"fields": [object_id("avro_field", f["attributes"]["qualifiedName"]) for f in fields]},
    )
    topic = entity(
        "kafka_topic",
        {
            "qualifiedName": topic_qualified_name(result.topic, cluster),
            "name": result.topic,
            "topic": result.topic,
            "uri": result.topic,
            "partitionCount": len(result.ranges),
        },
        relationship_attributes={"avroSchema": [object_id("avro_schema", schema_name)]},
    )
    return [topic, schema, *fields]


def detected_classification(decision: FieldDecision, evidence_doc: Mapping[str, Any]) -> dict[str, Any]:
    """The classification inference suggests for a field: source detected, status suggested."""
    attributes: dict[str, Any] = {
        "confidence": decision.confidence,
        "source": "detected",
        "status": "suggested",
        "evidence": json.dumps(evidence_doc, sort_keys=True, ensure_ascii=False),
    }
    if decision.entity == FREE_TEXT:
        attributes["entities"] = list(decision.text_entities)
    return {"typeName": decision.entity, "attributes": attributes}


def is_stale(existing: Mapping[str, Any], current: str) -> bool:
    """A classification to remove: detected, still only suggested, and not what this run found."""
    attributes = existing.get("attributes") or {}
    return (
        existing.get("typeName") != current
        and attributes.get("source") == "detected"
        and attributes.get("status") == "suggested"
    )


# --- the registry ----------------------------------------------------------------------------------------


def register_raw_schema(settings: Settings, result: InferenceResult) -> tuple[int, int]:
    """Register the inferred schema under `<raw_topic>-value`: (schema id, version). Registering the same
    schema again returns the existing version."""
    subject = value_subject(result.topic)
    client = make_registry_client(settings)
    schema = Schema(json.dumps(result.schema, separators=(",", ":")), "AVRO")
    try:
        schema_id = client.register_schema(subject, schema)
        version = client.lookup_schema(subject, schema).version
    except SchemaRegistryError as exc:
        hint = (
            "; the registry refuses it as incompatible with the subject's earlier versions (a field changed type?): "
            "check the events, or relax the subject's compatibility"
            if exc.http_status_code == 409
            else ""
        )
        raise DeidError(
            f"Schema Registry at {settings.registry_url} refused {subject}: "
            f"{exc.http_status_code} {exc.error_message}{hint}"
        ) from None
    except Exception as exc:  # transport errors: the client raises requests/httpx exceptions
        raise DeidError(
            f"Schema Registry at {settings.registry_url} did not answer for {subject} ({type(exc).__name__}); "
            "is it running (`deid stack up`) and is DEID_SCHEMA_REGISTRY_URL right?"
        ) from None
    assert version is not None
    return schema_id, version


# --- the catalog -----------------------------------------------------------------------------------------


@dataclass
class PublishReport:
    topic: str
    schema: str
    fields: int = 0
    created: int = 0
    updated: int = 0
    classified: int = 0
    removed: list[tuple[str, str]] = field(default_factory=list)  # (path, classification) no longer found
    steward_kept: list[str] = field(default_factory=list)  # paths whose steward decision stands


def ensure_classification_types(client: CatalogClient, entities: Iterable[str]) -> list[str]:
    """Define (as PII subtypes) the entity classifications the catalog lacks, e.g. a YAML recognizer's."""
    missing = []
    for name in sorted(set(entities) - {NON_PII, FREE_TEXT}):
        try:
            client.get_classification_def(name)
        except NotFound:
            missing.append({"name": name, "superTypes": [PII_SUPERTYPE], "attributeDefs": []})
    if missing:
        client.create_typedefs({"classificationDefs": missing})
    return [m["name"] for m in missing]


def _has_plain_type(client: CatalogClient) -> bool:
    definition = client.get_entity_def("avro_field")
    return any(a.get("name") == "type" for a in definition.get("attributeDefs") or [])


def publish_to_catalog(
    client: CatalogClient,
    result: InferenceResult,
    cluster: str,
    version: int,
    now: datetime | None = None,
) -> PublishReport:
    """Upsert the run's topic, schema and fields, and each field's detected classification (see module doc)."""
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    payload = catalog_entities(result, cluster, version, with_type=_has_plain_type(client))
    report = PublishReport(result.topic, payload[1]["attributes"]["qualifiedName"], fields=len(payload) - 2)
    mutation = client.upsert_entities(payload)
    report.created = len((mutation.get("mutatedEntities") or {}).get("CREATE") or [])
    report.updated = len((mutation.get("mutatedEntities") or {}).get("UPDATE") or [])
    ensure_classification_types(client, (d.entity for d in result.decisions.values()))
    guids = {item["attributes"]["name"]: assigned_guid(mutation, item["guid"]) for item in payload[2:]}
    profiles = result.fields
    for path, decision in result.decisions.items():
        guid = guids.get(path)
        if guid is None:
            raise DeidError(
                f"catalog: no guid for {field_qualified_name(result.topic, path, cluster)} after its upsert"
            )
        doc = evidence(decision, profiles[path], result.findings.get(path, Findings()), when)
        wanted = detected_classification(decision, doc)
        present = {c["typeName"]: c for c in client.get_classifications(guid)}
        if decision.entity in present:
            client.update_classifications(guid, [wanted])
            if (present[decision.entity].get("attributes") or {}).get("status") in ("confirmed", "rejected"):
                report.steward_kept.append(path)
        else:
            client.add_classifications(guid, [wanted])
        report.classified += 1
        for name, existing in present.items():
            if is_stale(existing, decision.entity):
                client.remove_classification(guid, name)
                report.removed.append((path, name))
    return report
