"""The Confluent-compatible registry API over real HTTP, driven by confluent_kafka's own client and serializers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.registry_server import serve_registry

V1 = {"type": "record", "name": "User", "namespace": "deid.test", "fields": [{"name": "name", "type": "string"}]}
V2 = {**V1, "fields": [*V1["fields"], {"name": "age", "type": "int", "default": 0}]}  # BACKWARD-compatible
BAD = {**V1, "fields": [*V1["fields"], {"name": "email", "type": "string"}]}  # new field, no default
MEDIA = "application/vnd.schemaregistry.v1+json"


def avro(schema: dict[str, Any], indent: int | None = None) -> Schema:
    return Schema(json.dumps(schema, indent=indent), "AVRO")


@dataclass
class Registry:
    url: str
    client: SchemaRegistryClient
    registered: list[tuple[str, int, int, str]] = field(default_factory=list)

    def http(self, method: str, path: str, body: Any = None, content_type: str = MEDIA) -> requests.Response:
        data = None if body is None else json.dumps(body)
        return requests.request(
            method, f"{self.url}{path}", data=data, headers={"Content-Type": content_type}, timeout=30
        )


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    calls: list[tuple[str, int, int, str]] = []
    with serve_registry(tmp_path / "registry.db", lambda *args: calls.append(args)) as url:
        yield Registry(url, SchemaRegistryClient({"url": url}), calls)


def error_of(call: Any) -> tuple[int, int]:
    with pytest.raises(SchemaRegistryError) as caught:
        call()
    return caught.value.http_status_code, caught.value.error_code


def test_register_same_schema_same_id_fetch_by_id_and_lookup(registry: Registry) -> None:
    client = registry.client
    schema_id = client.register_schema("users-value", avro(V1))
    # the same schema, laid out differently, by a fresh client (no client-side cache): same id, same version
    again = SchemaRegistryClient({"url": registry.url}).register_schema("users-value", avro(V1, indent=2))
    assert again == schema_id
    assert client.register_schema("accounts-value", avro(V1)) == schema_id  # ids are global across subjects
    assert client.get_versions("users-value") == [1]

    fetched = SchemaRegistryClient({"url": registry.url}).get_schema(schema_id)
    assert json.loads(fetched.schema_str) == {"name": "deid.test.User", "type": "record", "fields": V1["fields"]}
    assert fetched.schema_type == "AVRO"

    found = client.lookup_schema("users-value", avro(V1, indent=4))
    assert (found.schema_id, found.version, found.subject) == (schema_id, 1, "users-value")
    assert sorted((v.subject, v.version) for v in client.get_schema_versions(schema_id)) == [
        ("accounts-value", 1),
        ("users-value", 1),
    ]
    assert client.get_subjects_by_schema_id(schema_id) == ["accounts-value", "users-value"]
    assert client.get_subjects() == ["accounts-value", "users-value"]
    # the catalog hook ran for every registration, new or not
    assert [(s, v, i) for s, v, i, _ in registry.registered] == [
        ("users-value", 1, schema_id),
        ("users-value", 1, schema_id),
        ("accounts-value", 1, schema_id),
    ]
    assert json.loads(registry.registered[0][3])["fields"] == V1["fields"]


def test_unknown_things_answer_confluent_error_codes(registry: Registry) -> None:
    client = registry.client
    client.register_schema("known-value", avro(V1))
    assert error_of(lambda: client.get_schema(4242)) == (404, 40403)
    assert error_of(lambda: client.get_versions("nobody")) == (404, 40401)
    assert error_of(lambda: client.get_version("nobody", 1)) == (404, 40401)
    assert error_of(lambda: client.get_version("known-value", 7)) == (404, 40402)
    assert error_of(lambda: client.lookup_schema("nobody", avro(V1))) == (404, 40401)
    assert error_of(lambda: client.lookup_schema("known-value", avro(V2))) == (404, 40403)
    assert error_of(lambda: client.get_schema_versions(999)) == (404, 40403)
    for bad_version in ("0", "-2", "x", "2147483648"):
        response = registry.http("GET", f"/subjects/known-value/versions/{bad_version}")
        assert (response.status_code, response.json()["error_code"]) == (422, 42202)
    response = registry.http("GET", "/schemas/ids/not-a-number")
    assert (response.status_code, response.json()["error_code"]) == (404, 40403)


@pytest.mark.parametrize(
    ("schema_text", "detail"),
    [
        ('{"type": "record", "name": "R"}', "/fields"),
        ("{not json", "not JSON"),
        ('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}', "default"),
    ],
)
def test_invalid_schema_is_42201(registry: Registry, schema_text: str, detail: str) -> None:
    with pytest.raises(SchemaRegistryError) as caught:
        registry.client.register_schema("bad-value", Schema(schema_text, "AVRO"))
    assert (caught.value.http_status_code, caught.value.error_code) == (422, 42201)
    assert caught.value.error_message.startswith("Invalid schema") and detail in caught.value.error_message
    response = registry.http("POST", "/subjects/bad-value/versions", {"schema": "{}", "schemaType": "PROTOBUF"})
    assert response.json()["error_code"] == 42201 and "PROTOBUF" in response.json()["message"]
    assert registry.http("POST", "/subjects/bad-value/versions", {"nothing": 1}).json()["error_code"] == 42201


def test_evolve_compatibly_and_get_rejected_incompatibly(registry: Registry) -> None:
    client = registry.client
    first = client.register_schema("evolve-value", avro(V1))
    second = client.register_schema("evolve-value", avro(V2))
    assert second != first
    assert client.get_versions("evolve-value") == [1, 2]
    latest = client.get_latest_version("evolve-value")
    assert (latest.version, latest.schema_id) == (2, second)

    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema("evolve-value", avro(BAD))
    assert (caught.value.http_status_code, caught.value.error_code) == (409, 409)
    assert 'incompatible with an earlier schema for subject "evolve-value"' in caught.value.error_message
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in caught.value.error_message
    assert client.get_versions("evolve-value") == [1, 2]  # nothing registered

    assert client.test_compatibility("evolve-value", avro(V2)) is True
    assert client.test_compatibility("evolve-value", avro(BAD)) is False
    verbose = registry.http(
        "POST", "/compatibility/subjects/evolve-value/versions/latest?verbose=true", {"schema": json.dumps(BAD)}
    ).json()
    assert verbose["is_compatible"] is False
    assert any("'email'" in m for m in verbose["messages"]) and "{oldSchemaVersion: 2}" in verbose["messages"]
    terse = registry.http("POST", "/compatibility/subjects/evolve-value/versions/1", {"schema": json.dumps(BAD)})
    assert terse.json() == {"is_compatible": False}
    assert client.test_compatibility_all_versions("evolve-value", avro(V2)) is True
    # latest of a subject with no versions is compatible; a missing numbered version is 40402
    assert client.test_compatibility("fresh-value", avro(BAD)) is True
    assert error_of(lambda: client.test_compatibility("evolve-value", avro(V2), version=9)) == (404, 40402)
    invalid = registry.http(
        "POST", "/compatibility/subjects/evolve-value/versions/latest?verbose=true", {"schema": "{}"}
    ).json()
    assert invalid["is_compatible"] is False and invalid["messages"][0].startswith("Invalid schema")


def test_compatibility_config_global_and_per_subject(registry: Registry) -> None:
    client = registry.client
    assert client.get_compatibility() == "BACKWARD"  # Confluent's default
    assert client.set_compatibility(level="forward") == {"compatibility": "FORWARD"}
    assert client.get_compatibility() == "FORWARD"

    client.register_schema("cfg-value", avro(V1))
    assert error_of(lambda: client.get_compatibility("cfg-value")) == (404, 40408)
    response = registry.http("GET", "/config/cfg-value?defaultToGlobal=true")
    assert response.json() == {"compatibilityLevel": "FORWARD"}
    # FORWARD: the old schema must read the new one, so adding a field without a default is fine …
    client.register_schema("cfg-value", avro(BAD))
    # … and with the subject at FULL, the same kind of change is refused
    assert client.set_compatibility("cfg-value", "FULL") == {"compatibility": "FULL"}
    assert client.get_compatibility("cfg-value") == "FULL"
    more = {**BAD, "fields": [*BAD["fields"], {"name": "phone", "type": "string"}]}
    assert error_of(lambda: client.register_schema("cfg-value", avro(more))) == (409, 409)
    assert client.set_compatibility("cfg-value", "NONE") == {"compatibility": "NONE"}
    client.register_schema("cfg-value", avro(more))
    assert client.get_versions("cfg-value") == [1, 2, 3]

    assert registry.http("DELETE", "/config/cfg-value").json() == {"compatibilityLevel": "NONE"}
    assert error_of(lambda: client.get_compatibility("cfg-value")) == (404, 40408)
    assert registry.http("DELETE", "/config").json() == {"compatibilityLevel": "FORWARD"}
    assert client.get_compatibility() == "BACKWARD"

    for body in ({"compatibility": "SIDEWAYS"}, {"compatibility": 3}, {}, None):
        response = registry.http("PUT", "/config/cfg-value", body)
        assert (response.status_code, response.json()["error_code"]) == (422, 42203)
    assert registry.http("PUT", "/config", {"compatibility": "full_transitive"}).json() == {
        "compatibility": "FULL_TRANSITIVE"
    }


def test_soft_then_permanent_delete_of_versions(registry: Registry) -> None:
    client = registry.client
    client.set_compatibility("del-value", "NONE")
    first = client.register_schema("del-value", avro(V1))
    client.register_schema("del-value", avro(V2))

    assert error_of(lambda: client.delete_version("del-value", 1, permanent=True)) == (404, 40407)
    assert client.delete_version("del-value", 1) == 1
    assert client.get_versions("del-value") == [2]
    assert client.get_versions("del-value", deleted=True) == [1, 2]
    assert client.get_versions("del-value", deleted_only=True) == [1]
    assert registry.http("GET", "/subjects/del-value/versions/1").json()["error_code"] == 40402
    assert registry.http("GET", "/subjects/del-value/versions/1?deleted=true").json()["id"] == first
    assert error_of(lambda: client.delete_version("del-value", 1)) == (404, 40406)
    assert error_of(lambda: client.lookup_schema("del-value", avro(V1))) == (404, 40403)
    assert client.lookup_schema("del-value", avro(V1), deleted=True).version == 1
    # a soft-deleted version's id still decodes old data
    assert (
        json.loads(SchemaRegistryClient({"url": registry.url}).get_schema(first).schema_str)["fields"] == V1["fields"]
    )
    assert client.get_schema_versions(first) == []
    assert [(v.subject, v.version) for v in client.get_schema_versions(first, deleted=True)] == [("del-value", 1)]

    # registering the soft-deleted schema again makes a new version with the same id
    assert SchemaRegistryClient({"url": registry.url}).register_schema("del-value", avro(V1)) == first
    assert client.get_versions("del-value") == [2, 3]

    assert client.delete_version("del-value", 1, permanent=True) == 1
    assert registry.http("GET", "/subjects/del-value/versions/1?deleted=true").json()["error_code"] == 40402
    assert client.get_versions("del-value", deleted=True) == [2, 3]
    assert error_of(lambda: client.delete_version("del-value", 1, permanent=True)) == (404, 40402)
    assert error_of(lambda: client.delete_version("nobody", 1)) == (404, 40401)
    assert registry.http("DELETE", "/subjects/del-value/versions/latest").json() == 3
    assert client.get_latest_version("del-value").version == 2


def test_soft_then_permanent_delete_of_a_subject(registry: Registry) -> None:
    client = registry.client
    only_here = client.register_schema("gone-value", avro(V2))
    client.register_schema("kept-value", avro(V1))
    client.set_compatibility("gone-value", "NONE")

    assert error_of(lambda: client.delete_subject("gone-value", permanent=True)) == (404, 40405)
    assert client.delete_subject("gone-value") == [1]
    assert client.get_subjects() == ["kept-value"]
    assert client.get_subjects(deleted=True) == ["gone-value", "kept-value"]
    assert error_of(lambda: client.get_versions("gone-value")) == (404, 40401)
    assert error_of(lambda: client.get_compatibility("gone-value")) == (404, 40408)  # dropped with the subject
    assert error_of(lambda: client.delete_subject("gone-value")) == (404, 40404)
    assert registry.http("GET", f"/schemas/ids/{only_here}").json()["schema"]  # ids survive a soft delete

    assert client.delete_subject("gone-value", permanent=True) == [1]
    assert client.get_subjects(deleted=True) == ["kept-value"]
    assert error_of(lambda: client.delete_subject("gone-value", permanent=True)) == (404, 40401)
    assert registry.http("GET", f"/schemas/ids/{only_here}").json()["error_code"] == 40403
    # registered again after a permanent delete: numbering restarts, the schema keeps its id
    assert client.register_schema("gone-value", avro(V2)) == only_here
    assert client.get_versions("gone-value") == [1]


def test_versions_list_paging_and_prefix(registry: Registry) -> None:
    client = registry.client
    client.set_compatibility("page-value", "NONE")
    for n in range(4):
        client.register_schema("page-value", avro({**V1, "name": f"User{n}"}))
    client.register_schema("other-key", avro(V1))
    assert client.get_versions("page-value") == [1, 2, 3, 4]
    assert client.get_versions("page-value", offset=1, limit=2) == [2, 3]
    assert client.get_subjects(subject_prefix="page") == ["page-value"]
    version = client.get_version("page-value", 3)
    assert (version.subject, version.version) == ("page-value", 3)
    assert json.loads(version.schema.schema_str)["name"] == "deid.test.User2"
    raw = registry.http("GET", "/subjects/page-value/versions/3/schema")
    assert raw.headers["content-type"] == MEDIA and raw.json()["name"] == "deid.test.User2"
    assert registry.http("GET", "/subjects/page-value/versions/3/referencedby").json() == []
    assert registry.http("GET", "/schemas/types").json() == ["AVRO"]


@pytest.mark.parametrize(
    "content_type", [MEDIA, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream"]
)
def test_content_types(registry: Registry, content_type: str) -> None:
    response = registry.http("POST", "/subjects/ct-value/versions", {"schema": json.dumps(V1)}, content_type)
    assert response.status_code == 200 and response.json() == {"id": 1}
    assert response.headers["content-type"] == MEDIA
    missing = registry.http("GET", "/subjects/none/versions")
    assert missing.headers["content-type"] == MEDIA and missing.json() == {
        "error_code": 40401,
        "message": "Subject 'none' not found.",
    }
    garbled = requests.post(
        f"{registry.url}/subjects/ct-value/versions", data=b"{nope", headers={"Content-Type": content_type}, timeout=30
    )
    assert garbled.status_code == 400 and garbled.json()["error_code"] == 400
    deep = requests.post(f"{registry.url}/subjects/ct-value", data=b"[" * 100_000, timeout=30)
    assert deep.status_code == 400 and deep.json()["error_code"] == 400


def test_avro_serializer_and_deserializer_round_trip(registry: Registry) -> None:
    context = SerializationContext("orders", MessageField.VALUE)
    serializer = AvroSerializer(registry.client, json.dumps(V1))
    framed = serializer({"name": "Ada"}, context)
    schema_id = int.from_bytes(framed[1:5], "big")
    assert framed[0] == 0 and registry.client.get_versions("orders-value") == [1]
    # a consumer on the evolved schema reads old data with the new field's default
    SchemaRegistryClient({"url": registry.url}).register_schema("orders-value", avro(V2))
    evolved = AvroSerializer(SchemaRegistryClient({"url": registry.url}), json.dumps(V2))
    framed_v2 = evolved({"name": "Grace", "age": 36}, context)
    assert int.from_bytes(framed_v2[1:5], "big") != schema_id
    reader = AvroDeserializer(SchemaRegistryClient({"url": registry.url}), json.dumps(V2))
    assert reader(framed, context) == {"name": "Ada", "age": 0}
    assert reader(framed_v2, context) == {"name": "Grace", "age": 36}
    writer_schema_reader = AvroDeserializer(SchemaRegistryClient({"url": registry.url}))
    assert writer_schema_reader(framed, context) == {"name": "Ada"}


def test_concurrent_registrations_agree(registry: Registry) -> None:
    def register(text: str, subject: str) -> int:
        return SchemaRegistryClient({"url": registry.url}).register_schema(subject, Schema(text, "AVRO"))

    same = json.dumps(V1)
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda n: register(same, f"race-{n % 2}"), range(16)))
    assert len(set(ids)) == 1
    assert registry.client.get_versions("race-0") == [1] and registry.client.get_versions("race-1") == [1]

    registry.client.set_compatibility("many-value", "NONE")
    distinct = [json.dumps({**V1, "name": f"Kind{n}"}) for n in range(12)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda text: register(text, "many-value"), distinct))
    assert len(set(ids)) == 12
    assert registry.client.get_versions("many-value") == list(range(1, 13))
