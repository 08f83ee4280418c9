"""The registry served by the real catalog at /registry: catalog users and roles, the catalog's database
(SQLite and PostgreSQL), and each registered schema mirrored as an `avro_schema` linked to its topic."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.catalog_support import CatalogServer

V1 = {"type": "record", "name": "Watch", "namespace": "deid.channel", "fields": [{"name": "tv_show", "type": "string"}]}
V2 = {**V1, "fields": [*V1["fields"], {"name": "minutes", "type": "int", "default": 0}]}
BAD = {**V1, "fields": [*V1["fields"], {"name": "user_id", "type": "string"}]}


def registry_client(catalog: CatalogServer, role: str) -> SchemaRegistryClient:
    user, password = catalog.credentials(role)
    return SchemaRegistryClient({"url": f"{catalog.url}/registry", "basic.auth.user.info": f"{user}:{password}"})


def test_register_evolve_reject_and_round_trip_through_the_catalog(catalog: CatalogServer) -> None:
    steward = registry_client(catalog, "steward")
    subject = f"reg-{catalog.settings.data_dir.name[-6:]}-anonymised-data-value"
    first = steward.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
    assert steward.register_schema(subject, Schema(json.dumps(V1), "AVRO")) == first
    second = steward.register_schema(subject, Schema(json.dumps(V2), "AVRO"))
    assert second != first
    with pytest.raises(SchemaRegistryError) as rejected:
        steward.register_schema(subject, Schema(json.dumps(BAD), "AVRO"))
    assert rejected.value.http_status_code == 409

    context = SerializationContext(subject.removesuffix("-value"), MessageField.VALUE)
    serializer = AvroSerializer(
        steward, json.dumps(V2), conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    payload = serializer({"tv_show": "Barry", "minutes": 30}, context)
    assert payload[0] == 0 and int.from_bytes(payload[1:5], "big") == second
    assert AvroDeserializer(registry_client(catalog, "viewer"))(payload, context) == {"tv_show": "Barry", "minutes": 30}

    topic = subject.removesuffix("-value")
    found = catalog.client("viewer").get_entity_by_qualified_name("kafka_topic", f"{topic}@{catalog.settings.cluster}")
    schemas = found["entity"]["relationshipAttributes"]["avroSchema"]
    linked = [item.get("uniqueAttributes", {}).get("qualifiedName") or item.get("displayText") for item in schemas]
    cluster = catalog.settings.cluster
    assert linked == [f"{subject}.v2@{cluster}"]  # the topic points at the latest registered version
    older = catalog.client("viewer").get_entity_by_qualified_name("avro_schema", f"{subject}.v1@{cluster}")
    notation = json.loads(older["entity"]["attributes"]["avro_notation"])  # as registered, names made full
    assert notation["name"] == "deid.channel.Watch" and [f["name"] for f in notation["fields"]] == ["tv_show"]


def test_roles_apply_to_the_registry(catalog: CatalogServer) -> None:
    viewer = registry_client(catalog, "viewer")
    with pytest.raises(SchemaRegistryError) as forbidden:
        viewer.register_schema("viewer-try-value", Schema(json.dumps(V1), "AVRO"))
    assert forbidden.value.http_status_code == 403
    anonymous = catalog.http(None).get(f"{catalog.url}/registry/subjects", timeout=30)
    assert anonymous.status_code == 401 and "error_code" in anonymous.json()
    assert isinstance(viewer.get_subjects(), list)


def test_registry_root_answers_without_redirect_loops(catalog: CatalogServer) -> None:
    http = catalog.http("viewer")
    for path in ("/registry/", "/registry", "/registry//"):
        answer = http.get(f"{catalog.url}{path}", timeout=30)
        assert answer.status_code == 200, (path, answer.status_code)
