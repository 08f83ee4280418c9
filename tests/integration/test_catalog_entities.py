"""Entity endpoints against a real catalog server, on SQLite and PostgreSQL: upserts with placeholder
guids and relationships, reads with referred entities, partial updates, deletes, every error path,
and concurrent upserts of one qualifiedName."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import requests

from tests.catalog_support import CatalogServer

ENTITY = "/api/atlas/v2/entity"


def token() -> str:
    return uuid.uuid4().hex[:10]


def topic(name: str, guid: str = "-1", **extra: Any) -> dict[str, Any]:
    attributes = {"qualifiedName": f"{name}@eu", "name": name, "topic": name, "uri": f"kafka://{name}", **extra}
    return {"typeName": "kafka_topic", "guid": guid, "attributes": attributes}


def schema_with_fields(name: str, fields: list[str]) -> list[dict[str, Any]]:
    """kafka_topic, its avro_schema and fields, wired by placeholder guids."""
    entities = [topic(name)]
    field_refs = [{"guid": f"-{10 + i}"} for i in range(len(fields))]
    entities.append(
        {
            "typeName": "avro_schema",
            "guid": "-2",
            "attributes": {
                "qualifiedName": f"{name}-value@eu",
                "name": f"{name}-value",
                "type": "record",
                "namespace": "deid.test",
                "fields": field_refs,
            },
            "relationshipAttributes": {"associatedEntities": [{"guid": "-1"}]},
        }
    )
    for i, field in enumerate(fields):
        entities.append(
            {
                "typeName": "avro_field",
                "guid": f"-{10 + i}",
                "attributes": {"qualifiedName": f"{name}-value@eu.{field}", "name": field},
            }
        )
    return entities


def check_error(response: requests.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code, body
    for word in words:
        assert word in body["errorMessage"], body


def test_bulk_upsert_with_relationships_is_idempotent(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"orders-{token()}"
    first = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(name, ["user_id", "email"])})
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["mutatedEntities"]["CREATE"]) == 4
    guids = body["guidAssignments"]
    assert set(guids) == {"-1", "-2", "-10", "-11"} and len(set(guids.values())) == 4

    got = http.get(f"{catalog.url}{ENTITY}/guid/{guids['-2']}").json()
    schema = got["entity"]
    assert schema["typeName"] == "avro_schema" and schema["status"] == "ACTIVE"
    assert schema["createdBy"] == "test-steward" and schema["version"] == 0
    assert {f["guid"] for f in schema["attributes"]["fields"]} == {guids["-10"], guids["-11"]}
    related = schema["relationshipAttributes"]
    assert related["associatedEntities"][0]["guid"] == guids["-1"]
    assert related["associatedEntities"][0]["relationshipType"] == "avro_schema_associatedEntities"
    assert {f["displayText"] for f in related["fields"]} == {"user_id", "email"}
    assert set(got["referredEntities"]) == {guids["-1"], guids["-10"], guids["-11"]}
    field = got["referredEntities"][guids["-10"]]
    assert field["relationshipAttributes"]["record"]["guid"] == guids["-2"]

    topic_view = http.get(f"{catalog.url}{ENTITY}/guid/{guids['-1']}").json()["entity"]
    assert topic_view["relationshipAttributes"]["schema"][0]["guid"] == guids["-2"]

    again = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(name, ["user_id", "email"])})
    assert again.status_code == 200
    assert again.json()["mutatedEntities"] == {} and again.json()["guidAssignments"] == guids

    # Dropping a field from the schema unlinks it; a changed attribute is an UPDATE with a new version.
    changed = schema_with_fields(name, ["user_id"])
    changed[1]["attributes"]["doc"] = "orders"
    third = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": changed}).json()
    assert [h["guid"] for h in third["mutatedEntities"]["UPDATE"]] == [guids["-2"]]
    schema = http.get(f"{catalog.url}{ENTITY}/guid/{guids['-2']}").json()["entity"]
    assert schema["version"] == 1 and schema["attributes"]["doc"] == "orders"
    assert [f["guid"] for f in schema["attributes"]["fields"]] == [guids["-10"]]

    ignoring = http.get(f"{catalog.url}{ENTITY}/guid/{guids['-2']}", params={"ignoreRelationships": "true"}).json()
    assert "relationshipAttributes" not in ignoring["entity"]
    minimal = http.get(f"{catalog.url}{ENTITY}/guid/{guids['-2']}", params={"minExtInfo": "true"}).json()
    assert all("relationshipAttributes" not in e for e in minimal["referredEntities"].values())


def test_single_entity_reads_and_partial_updates(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"clicks-{token()}"
    created = http.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name, partitionCount=3)})
    assert created.status_code == 200, created.text
    guid = created.json()["guidAssignments"]["-1"]
    qualified = {"attr:qualifiedName": f"{name}@eu"}

    by_unique = http.get(f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic", params=qualified)
    assert by_unique.status_code == 200 and by_unique.json()["entity"]["guid"] == guid
    via_supertype = http.get(f"{catalog.url}{ENTITY}/uniqueAttribute/type/DataSet", params=qualified)
    assert via_supertype.json()["entity"]["guid"] == guid
    header = http.get(f"{catalog.url}{ENTITY}/guid/{guid}/header").json()
    assert header["displayText"] == name and header["attributes"]["qualifiedName"] == f"{name}@eu"
    header = http.get(f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic/header", params=qualified).json()
    assert header["guid"] == guid

    partial = http.put(
        f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic",
        params=qualified,
        json={"entity": {"typeName": "kafka_topic", "attributes": {"description": "click events"}}},
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["mutatedEntities"]["PARTIAL_UPDATE"][0]["guid"] == guid
    one_attribute = http.put(f"{catalog.url}{ENTITY}/guid/{guid}", params={"name": "partitionCount"}, json=6)
    assert one_attribute.status_code == 200, one_attribute.text
    attributes = http.get(f"{catalog.url}{ENTITY}/guid/{guid}").json()["entity"]["attributes"]
    assert attributes["description"] == "click events" and attributes["partitionCount"] == 6
    assert attributes["topic"] == name  # untouched by the partial updates

    other = http.post(f"{catalog.url}{ENTITY}", json={"entity": topic(f"{name}-2")}).json()["guidAssignments"]["-1"]
    bulk = http.get(f"{catalog.url}{ENTITY}/bulk", params={"guid": [guid, other]}).json()
    assert [e["guid"] for e in bulk["entities"]] == [guid, other]

    deleted = http.delete(f"{catalog.url}{ENTITY}/guid/{guid}")
    assert deleted.status_code == 200 and deleted.json()["mutatedEntities"]["DELETE"][0]["guid"] == guid
    assert http.get(f"{catalog.url}{ENTITY}/guid/{guid}").json()["entity"]["status"] == "DELETED"
    check_error(
        http.get(f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic", params=qualified), 404, "ATLAS-404-00-009"
    )
    assert http.delete(f"{catalog.url}{ENTITY}/guid/{guid}").json()["mutatedEntities"] == {}

    # Writing it again brings the same entity back.
    revived = http.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name)}).json()
    assert revived["guidAssignments"]["-1"] == guid
    assert http.get(f"{catalog.url}{ENTITY}/guid/{guid}").json()["entity"]["status"] == "ACTIVE"

    by_attr = http.delete(f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic", params=qualified)
    assert by_attr.status_code == 200 and by_attr.json()["mutatedEntities"]["DELETE"][0]["guid"] == guid
    bulk_delete = http.delete(f"{catalog.url}{ENTITY}/bulk", params={"guid": [other]})
    assert bulk_delete.json()["mutatedEntities"]["DELETE"][0]["guid"] == other


def test_lineage_references_by_unique_attributes(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"movie-{token()}"
    http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": [topic(f"{name}-raw"), topic(f"{name}-anon", "-2")]})
    pipeline = {
        "typeName": "deid_pipeline",
        "attributes": {
            "qualifiedName": f"{name}-pipeline@eu",
            "name": f"{name} pipeline",
            "domain": name,
            "policyVersion": 1,
            "inputs": [{"typeName": "kafka_topic", "uniqueAttributes": {"qualifiedName": f"{name}-raw@eu"}}],
            "outputs": [{"typeName": "DataSet", "uniqueAttributes": {"qualifiedName": f"{name}-anon@eu"}}],
        },
    }
    made = http.post(f"{catalog.url}{ENTITY}", json={"entity": pipeline})
    assert made.status_code == 200, made.text
    guid = made.json()["mutatedEntities"]["CREATE"][0]["guid"]
    entity = http.get(f"{catalog.url}{ENTITY}/guid/{guid}").json()["entity"]
    assert entity["attributes"]["inputs"][0]["uniqueAttributes"]["qualifiedName"] == f"{name}-raw@eu"
    assert entity["relationshipAttributes"]["outputs"][0]["displayText"] == f"{name}-anon"


def test_entity_errors(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"bad-{token()}"
    url = f"{catalog.url}{ENTITY}"
    check_error(
        http.post(url, json={"entity": {"typeName": "no_such_type", "attributes": {}}}),
        400,
        "ATLAS-400-00-014",
        "no_such_type",
    )
    check_error(
        http.post(url, json={"entity": topic(name, partitionCount="many")}), 400, "ATLAS-400-00-028", "partitionCount"
    )
    missing = topic(name)
    del missing["attributes"]["uri"]
    check_error(http.post(url, json={"entity": missing}), 400, "ATLAS-400-00-02B", "uri")
    dangling = topic(name)
    dangling["relationshipAttributes"] = {"schema": [{"guid": "-99"}]}
    check_error(http.post(url, json={"entity": dangling}), 400, "ATLAS-400-00-022", "-99")
    by_name = topic(name)
    by_name["relationshipAttributes"] = {
        "schema": [{"typeName": "avro_schema", "uniqueAttributes": {"qualifiedName": "x"}}]
    }
    check_error(http.post(url, json={"entity": by_name}), 400, "ATLAS-400-00-022")
    wrong_end = topic(name, guid="-1")
    wrong_end["relationshipAttributes"] = {"schema": [{"guid": "-5"}]}
    other_topic = topic(f"{name}-o", guid="-5")
    check_error(
        http.post(f"{url}/bulk", json={"entities": [wrong_end, other_topic]}), 400, "ATLAS-400-00-045", "kafka_topic"
    )
    check_error(http.post(url, json={"entity": {"attributes": {}}}), 400, "ATLAS-400-00-029", "typeName")
    check_error(http.post(url, data="not json", headers={"Content-Type": "application/json"}), 400, "ATLAS-400-00-029")
    check_error(http.post(f"{url}/bulk", json={"entities": []}), 400, "ATLAS-400-00-01A")

    unknown = str(uuid.uuid4())
    check_error(http.get(f"{url}/guid/{unknown}"), 404, "ATLAS-404-00-005", unknown)
    check_error(http.delete(f"{url}/guid/{unknown}"), 404, "ATLAS-404-00-005")
    check_error(http.get(f"{url}/bulk", params={"guid": unknown}), 404, "ATLAS-404-00-005")
    check_error(http.put(f"{url}/guid/{unknown}", params={"name": "description"}, json="x"), 404, "ATLAS-404-00-005")
    check_error(http.post(url, json={"entity": {**topic(name), "guid": unknown}}), 404, "ATLAS-404-00-005")
    unique = f"{url}/uniqueAttribute/type/kafka_topic"
    check_error(http.get(unique, params={"attr:qualifiedName": "nothing@eu"}), 404, "ATLAS-404-00-009")
    check_error(http.get(unique), 400, "ATLAS-400-00-01A")
    check_error(http.get(unique, params={"attr:name": "x"}), 400, "ATLAS-400-00-01A", "name")
    check_error(
        http.get(f"{url}/uniqueAttribute/type/no_such_type", params={"attr:qualifiedName": "x"}),
        400,
        "ATLAS-400-00-014",
    )
    created = http.post(url, json={"entity": topic(name)}).json()["guidAssignments"]["-1"]
    check_error(
        http.put(unique, params={"attr:qualifiedName": f"{name}@eu"}, json={"entity": {"typeName": "avro_field"}}),
        400,
        "ATLAS-400-00-010",
    )
    check_error(
        http.post(url, json={"entity": {**topic(name), "typeName": "avro_field", "guid": created}}),
        400,
        "ATLAS-400-00-010",
    )
    clash = http.post(url, json={"entity": topic(f"{name}-b")})
    assert clash.status_code == 200
    renamed = http.put(
        unique,
        params={"attr:qualifiedName": f"{name}-b@eu"},
        json={"entity": {"typeName": "kafka_topic", "attributes": {"qualifiedName": f"{name}@eu"}}},
    )
    check_error(renamed, 409, "ATLAS-409-00-003")


def test_concurrent_upserts_of_one_name_make_one_entity(catalog: CatalogServer) -> None:
    name = f"race-{token()}"
    results: list[str] = []
    errors: list[str] = []

    def write(index: int) -> None:
        session = catalog.http("steward")
        body = {"entities": [topic(name, description=f"writer {index}")]}
        answer = session.post(f"{catalog.url}{ENTITY}/bulk", json=body, timeout=60)
        if answer.status_code == 200:
            results.append(answer.json()["guidAssignments"]["-1"])
        else:
            errors.append(answer.text)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    found = catalog.http("viewer").post(
        f"{catalog.url}/api/atlas/v2/search/basic",
        json={
            "typeName": "kafka_topic",
            "entityFilters": {"attributeName": "qualifiedName", "operator": "=", "attributeValue": f"{name}@eu"},
        },
    )
    assert found.json()["approximateCount"] == 1


def test_atlas_leniencies_on_entity_values(catalog: CatalogServer) -> None:
    """What real Atlas accepts: attributes the type lacks (ignored, not stored), enum values in another
    case, dates as ISO-8601 text or epoch milliseconds."""
    http, name = catalog.http("admin"), f"lenient_{token()}"
    types = f"{catalog.url}/api/atlas/v2/types/typedefs"
    made = http.post(types, json={
        "enumDefs": [{"name": f"{name}_kind", "elementDefs": [{"value": "MANAGED"}, {"value": "EXTERNAL"}]}],
        "entityDefs": [{"name": name, "superTypes": ["DataSet"], "attributeDefs": [
            {"name": "kind", "typeName": f"{name}_kind", "isOptional": True},
            {"name": "createTime", "typeName": "date", "isOptional": True}]}],
    })  # fmt: skip
    assert made.status_code == 200, made.text

    def create(**attributes: Any) -> requests.Response:
        entity = {"typeName": name, "attributes": {"qualifiedName": f"{name}-{token()}", "name": name, **attributes}}
        return http.post(f"{catalog.url}{ENTITY}", json={"entity": entity})

    answer = create(kind="Managed", createTime="2017-08-25T13:15:25.369Z", clusterName="cl1")
    assert answer.status_code == 200, answer.text
    guid = answer.json()["mutatedEntities"]["CREATE"][0]["guid"]
    stored = http.get(f"{catalog.url}{ENTITY}/guid/{guid}").json()["entity"]["attributes"]
    assert stored["kind"] == "MANAGED" and stored["createTime"] == 1503666925369
    assert "clusterName" not in stored
    assert create(createTime=1503666925369).status_code == 200
    assert create(createTime="2017-08-25").status_code == 200
    check_error(create(createTime="last tuesday"), 400, "ATLAS-400-00-028", "createTime")
    check_error(create(kind="sideways"), 400, "ATLAS-400-00-028", "kind")


def test_large_bulk_commits_in_chunks_of_linked_groups(catalog: CatalogServer, monkeypatch: Any) -> None:
    """Past the chunk size a bulk write commits linked groups chunk by chunk: every entity and link
    lands; a bad entity in a later chunk fails the request with a message saying what was committed."""
    from catalog.server import bulk

    monkeypatch.setattr(bulk, "CHUNK_ENTITIES", 12)
    http, name = catalog.http("steward"), f"chunked-{token()}"
    entities = []
    for s in range(6):
        entities += schema_with_fields(f"{name}-{s}", [f"f{f}" for f in range(4)])  # topic + schema + 4 fields
        for entity in entities[-6:]:
            entity["guid"] = f"-{s}{entity['guid'][1:]}0"  # placeholders unique across the request
        entities[-5]["attributes"]["fields"] = [{"guid": f"-{s}{10 + f}0"} for f in range(4)]
        entities[-5]["relationshipAttributes"] = {"associatedEntities": [{"guid": f"-{s}10"}]}
    answer = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": entities})
    assert answer.status_code == 200, answer.text
    created = answer.json()["mutatedEntities"]["CREATE"]
    assert len(created) == 36 and len(answer.json()["guidAssignments"]) == 36
    last_schema = answer.json()["guidAssignments"]["-520"]
    schema = http.get(f"{catalog.url}{ENTITY}/guid/{last_schema}").json()["entity"]
    assert len(schema["relationshipAttributes"]["fields"]) == 4
    assert schema["relationshipAttributes"]["associatedEntities"][0]["displayText"] == f"{name}-5"

    broken = [dict(e) for e in entities]
    broken = [{**e, "attributes": {**e["attributes"], "qualifiedName": e["attributes"]["qualifiedName"] + "-b"}}
              for e in broken]  # fmt: skip
    broken[-1]["typeName"] = "no_such_type"
    failed = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": broken})
    check_error(failed, 400, "ATLAS-400-00-014", "no_such_type")
    assert "committed in earlier chunks" in failed.json()["errorMessage"]
    first = http.get(f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic",
                     params={"attr:qualifiedName": broken[0]["attributes"]["qualifiedName"]})  # fmt: skip
    assert first.status_code == 200  # the first chunk stayed committed
