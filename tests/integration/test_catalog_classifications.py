"""Classification endpoints against a real catalog server (SQLite and PostgreSQL), including the
steward rule: a detected update never overwrites a steward's confirmed/rejected decision."""

from __future__ import annotations

import json
import uuid

from tests.catalog_support import CatalogServer
from tests.integration.test_catalog_entities import ENTITY, check_error, schema_with_fields, token


def _fields(catalog: CatalogServer, *names: str) -> dict[str, str]:
    """Create a topic with these fields; field name -> guid."""
    topic = f"tags-{token()}"
    made = catalog.http("steward").post(
        f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(topic, list(names))}
    )
    assignments = made.json()["guidAssignments"]
    return {name: assignments[f"-{10 + i}"] for i, name in enumerate(names)}


def test_add_read_update_remove(catalog: CatalogServer) -> None:
    guid = _fields(catalog, "email")["email"]
    http, url = catalog.http("steward"), f"{catalog.url}{ENTITY}/guid/{guid}"
    tag = {"typeName": "EMAIL_ADDRESS", "attributes": {"confidence": 0.93, "source": "detected", "status": "suggested"}}
    added = http.post(f"{url}/classifications", json=[tag])
    assert added.status_code == 204, added.text

    listing = http.get(f"{url}/classifications").json()
    assert listing["totalCount"] == 1 and listing["list"][0]["typeName"] == "EMAIL_ADDRESS"
    one = http.get(f"{url}/classification/EMAIL_ADDRESS").json()
    assert one["attributes"]["confidence"] == 0.93 and one["attributes"]["evidence"] is None
    assert one["entityGuid"] == guid and one["entityStatus"] == "ACTIVE"
    entity = http.get(url).json()["entity"]
    assert [c["typeName"] for c in entity["classifications"]] == ["EMAIL_ADDRESS"]

    check_error(http.post(f"{url}/classifications", json=[tag]), 400, "ATLAS-400-00-01B", "EMAIL_ADDRESS")
    updated = http.put(
        f"{url}/classifications", json=[{"typeName": "EMAIL_ADDRESS", "attributes": {"confidence": 0.5}}]
    )
    assert updated.status_code == 204
    attributes = http.get(f"{url}/classification/EMAIL_ADDRESS").json()["attributes"]
    assert attributes["confidence"] == 0.5 and attributes["status"] == "suggested"  # given keys only

    check_error(
        http.put(f"{url}/classifications", json=[{"typeName": "PERSON", "attributes": {}}]), 400, "ATLAS-400-00-06D"
    )
    check_error(http.post(f"{url}/classifications", json=[{"typeName": "NOPE"}]), 404, "ATLAS-404-00-008", "NOPE")
    check_error(
        http.post(f"{url}/classifications", json=[{"typeName": "PERSON", "attributes": {"status": "maybe"}}]),
        400,
        "ATLAS-400-00-028",
        "status",
    )
    check_error(
        http.post(f"{url}/classifications", json=[{"typeName": "PERSON", "attributes": {"colour": 1}}]),
        400,
        "ATLAS-400-00-023",
    )
    check_error(http.get(f"{url}/classification/PERSON"), 404, "ATLAS-404-00-008")
    assert http.delete(f"{url}/classification/EMAIL_ADDRESS").status_code == 204
    check_error(http.delete(f"{url}/classification/EMAIL_ADDRESS"), 400, "ATLAS-400-00-06D")
    missing = str(uuid.uuid4())
    check_error(http.get(f"{catalog.url}{ENTITY}/guid/{missing}/classifications"), 404, "ATLAS-404-00-005")
    check_error(http.post(f"{catalog.url}{ENTITY}/guid/{missing}/classifications", json=[tag]), 404, "ATLAS-404-00-005")


def test_bulk_and_unique_attribute_classification(catalog: CatalogServer) -> None:
    fields = _fields(catalog, "a_party", "b_party")
    http = catalog.http("steward")
    request = {
        "classification": {"typeName": "PHONE_NUMBER", "attributes": {"source": "detected", "status": "suggested"}},
        "entityGuids": list(fields.values()),
    }
    assert http.post(f"{catalog.url}{ENTITY}/bulk/classification", json=request).status_code == 204
    for guid in fields.values():
        names = [c["typeName"] for c in http.get(f"{catalog.url}{ENTITY}/guid/{guid}/classifications").json()["list"]]
        assert names == ["PHONE_NUMBER"]

    field = http.get(f"{catalog.url}{ENTITY}/guid/{fields['a_party']}").json()["entity"]
    qualified = {"attr:qualifiedName": field["attributes"]["qualifiedName"]}
    base = f"{catalog.url}{ENTITY}/uniqueAttribute/type/avro_field"
    assert http.post(f"{base}/classifications", params=qualified, json=[{"typeName": "NON_PII"}]).status_code == 204
    changed = http.put(
        f"{base}/classifications", params=qualified, json=[{"typeName": "NON_PII", "attributes": {"note": "checked"}}]
    )
    assert changed.status_code == 204
    note = http.get(f"{catalog.url}{ENTITY}/guid/{fields['a_party']}/classification/NON_PII").json()
    assert note["attributes"]["note"] == "checked"
    assert http.delete(f"{base}/classification/NON_PII", params=qualified).status_code == 204
    check_error(http.delete(f"{base}/classification/NON_PII", params=qualified), 400, "ATLAS-400-00-06D")


def test_classification_restricted_to_entity_types(catalog: CatalogServer) -> None:
    name = f"TOPIC_ONLY_{token()}"
    admin = catalog.http("admin")
    created = admin.post(
        f"{catalog.url}/api/atlas/v2/types/typedefs",
        json={"classificationDefs": [{"name": name, "entityTypes": ["kafka_topic"]}]},
    )
    assert created.status_code == 200, created.text
    guid = _fields(catalog, "x")["x"]
    check_error(
        admin.post(f"{catalog.url}{ENTITY}/guid/{guid}/classifications", json=[{"typeName": name}]),
        400,
        "ATLAS-400-00-055",
        name,
    )


def test_detected_update_keeps_the_stewards_decision(catalog: CatalogServer) -> None:
    fields = _fields(catalog, "tv_show", "user_id")
    steward = catalog.http("steward")
    tv_show = f"{catalog.url}{ENTITY}/guid/{fields['tv_show']}"
    detected = {
        "typeName": "PERSON",
        "attributes": {"confidence": 0.71, "source": "detected", "status": "suggested", "evidence": '{"share": 0.2}'},
    }
    steward.post(f"{tv_show}/classifications", json=[detected])
    # The steward rejects the wrong PERSON tag (and marks the field NON_PII).
    rejection = {"typeName": "PERSON", "attributes": {"source": "steward", "status": "rejected", "note": "TV titles"}}
    assert steward.put(f"{tv_show}/classifications", json=[rejection]).status_code == 204
    steward.post(
        f"{tv_show}/classifications",
        json=[{"typeName": "NON_PII", "attributes": {"source": "steward", "status": "confirmed"}}],
    )

    # Inference runs again: same suggestion, new evidence, through PUT and through an entity upsert.
    rerun = json.loads(json.dumps(detected))
    rerun["attributes"]["evidence"] = '{"share": 0.25}'
    rerun["attributes"]["confidence"] = 0.8
    assert steward.put(f"{tv_show}/classifications", json=[rerun]).status_code == 204
    person = steward.get(f"{tv_show}/classification/PERSON").json()["attributes"]
    assert person["status"] == "rejected" and person["source"] == "steward" and person["note"] == "TV titles"
    assert person["confidence"] == 0.71 and person["evidence"] == '{"share": 0.25}'

    field = steward.get(tv_show).json()["entity"]
    upsert = {
        "typeName": "avro_field",
        "attributes": {"qualifiedName": field["attributes"]["qualifiedName"], "name": "tv_show"},
        "classifications": [{**rerun, "attributes": {**rerun["attributes"], "evidence": '{"share": 0.3}'}}],
    }
    assert steward.post(f"{catalog.url}{ENTITY}", json={"entity": upsert}).status_code == 200
    person = steward.get(f"{tv_show}/classification/PERSON").json()["attributes"]
    assert person["status"] == "rejected" and person["evidence"] == '{"share": 0.3}'

    # Where the steward has not decided, detection updates freely.
    user_id = f"{catalog.url}{ENTITY}/guid/{fields['user_id']}"
    steward.post(f"{user_id}/classifications", json=[{**detected, "typeName": "USER_ID"}])
    steward.put(f"{user_id}/classifications", json=[{**rerun, "typeName": "USER_ID"}])
    assert steward.get(f"{user_id}/classification/USER_ID").json()["attributes"]["confidence"] == 0.8

    # replaceClassifications: the upsert's list becomes the entity's list.
    replace = {**upsert, "classifications": [{"typeName": "NON_PII", "attributes": {"source": "steward"}}]}
    replaced = steward.post(
        f"{catalog.url}{ENTITY}", params={"replaceClassifications": "true"}, json={"entity": replace}
    )
    assert replaced.status_code == 200
    names = [c["typeName"] for c in steward.get(f"{tv_show}/classifications").json()["list"]]
    assert names == ["NON_PII"]
