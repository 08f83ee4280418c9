"""Atlas's glossary (GlossaryREST) and quick search against real catalog servers: glossaries, terms,
categories, term assignment to entities, the error codes Atlas answers with."""

from __future__ import annotations

import uuid

from tests.catalog_support import CatalogServer
from tests.integration.test_catalog_entities import ENTITY, check_error, schema_with_fields

GLOSSARY = "/api/atlas/v2/glossary"


def test_glossary_terms_categories_and_assignments(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"Gloss{uuid.uuid4().hex[:8]}"
    url = f"{catalog.url}{GLOSSARY}"
    glossary = http.post(url, json={"name": name, "shortDescription": "terms of the test"})
    assert glossary.status_code == 200, glossary.text
    guid = glossary.json()["guid"]
    assert glossary.json()["qualifiedName"] == name and glossary.json()["terms"] == []
    check_error(http.post(url, json={"name": name}), 409, "ATLAS-409-00-007", name)
    check_error(http.post(url, json={"shortDescription": "no name"}), 400, "ATLAS-400-00-02B", "name")

    anchor = {"glossaryGuid": guid}
    term = http.post(f"{url}/term", json={"name": "Salary", "anchor": anchor, "abbreviation": "SAL"}).json()
    assert term["qualifiedName"] == f"Salary@{name}" and term["anchor"]["glossaryGuid"] == guid
    check_error(http.post(f"{url}/term", json={"name": "Salary", "anchor": anchor}), 409, "ATLAS-409-00-009")
    check_error(http.post(f"{url}/term", json={"name": "Orphan"}), 400, "ATLAS-400-00-029", "anchor")
    parent = http.post(f"{url}/category", json={"name": "Pay", "anchor": anchor}).json()
    child = http.post(f"{url}/category", json={"name": "Bonus", "anchor": anchor,
                                               "parentCategory": {"categoryGuid": parent["guid"]}}).json()  # fmt: skip
    assert child["qualifiedName"] == f"Pay.Bonus@{name}" and child["parentCategory"]["categoryGuid"] == parent["guid"]
    assert http.get(f"{url}/category/{parent['guid']}").json()["childrenCategories"][0]["categoryGuid"] == child["guid"]
    detailed = http.get(f"{url}/{guid}/detailed").json()
    assert set(detailed["termInfo"]) == {term["guid"]} and set(detailed["categoryInfo"]) == {
        parent["guid"],
        child["guid"],
    }
    assert [t["name"] for t in http.get(f"{url}/{guid}/terms").json()] == ["Salary"]
    updated = http.put(f"{url}/term/{term['guid']}", json={"name": "Salary", "longDescription": "gross pay"})
    assert updated.status_code == 200 and updated.json()["longDescription"] == "gross pay"

    topic = f"gloss-{uuid.uuid4().hex[:8]}"
    made = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(topic, ["pay"])}).json()
    field = made["guidAssignments"]["-10"]
    assigned = http.post(f"{url}/terms/{term['guid']}/assignedEntities", json=[{"guid": field}])
    assert assigned.status_code == 204, assigned.text
    assert [e["guid"] for e in http.get(f"{url}/terms/{term['guid']}/assignedEntities").json()] == [field]
    meanings = http.get(f"{catalog.url}{ENTITY}/guid/{field}").json()["entity"]["relationshipAttributes"]["meanings"]
    assert [m["guid"] for m in meanings] == [term["guid"]]
    check_error(http.delete(f"{url}/term/{term['guid']}"), 400, "ATLAS-400-00-029", "assigned")
    assert http.put(f"{url}/terms/{term['guid']}/assignedEntities", json=[{"guid": field}]).status_code == 204
    assert http.get(f"{url}/terms/{term['guid']}/assignedEntities").json() == []
    check_error(catalog.http("viewer").post(url, json={"name": "x"}), 403, "ATLAS-403-00-001")

    assert http.delete(f"{url}/{guid}").status_code == 204
    check_error(http.get(f"{url}/{guid}"), 404, "ATLAS-404-00-005")
    check_error(http.get(f"{url}/term/{term['guid']}"), 404, "ATLAS-404-00-005")  # deleted with its glossary
    assert name not in {g["name"] for g in http.get(url).json()}


def test_quick_search(catalog: CatalogServer) -> None:
    http, topic = catalog.http("viewer"), f"quick-{uuid.uuid4().hex[:8]}"
    catalog.http("steward").post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(topic, ["x"])})
    url = f"{catalog.url}/api/atlas/v2/search/quick"
    got = http.get(url, params={"query": topic, "typeName": "kafka_topic", "limit": -1, "offset": -1})
    assert got.status_code == 200, got.text
    results = got.json()["searchResults"]
    assert results["queryType"] == "QUICK" and [e["displayText"] for e in results["entities"]] == [topic]
    anywhere = http.get(url, params={"query": topic}).json()["searchResults"]["approximateCount"]
    assert anywhere == 3  # the topic, its schema and its field: nothing else carries the token
    posted = http.post(url, json={"query": topic, "typeName": "avro_field", "limit": 5}).json()
    assert [e["typeName"] for e in posted["searchResults"]["entities"]] == ["avro_field"]
    check_error(http.get(url, params={"query": "x", "typeName": "nope"}), 400, "ATLAS-400-00-00A")


def test_basic_search_by_term(catalog: CatalogServer) -> None:
    http, name = catalog.http("steward"), f"Terms{uuid.uuid4().hex[:8]}"
    url = f"{catalog.url}{GLOSSARY}"
    glossary = http.post(url, json={"name": name}).json()["guid"]
    term = http.post(f"{url}/term", json={"name": "Contact", "anchor": {"glossaryGuid": glossary}}).json()["guid"]
    topic = f"term-{uuid.uuid4().hex[:8]}"
    made = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(topic, ["mail", "age"])})
    mail = made.json()["guidAssignments"]["-10"]
    assert http.post(f"{url}/terms/{term}/assignedEntities", json=[{"guid": mail}]).status_code == 204
    search = f"{catalog.url}/api/atlas/v2/search/basic"
    found = http.post(search, json={"termName": f"Contact@{name}"}).json()["entities"]
    assert [e["guid"] for e in found] == [mail]
    typed = http.post(search, json={"typeName": "kafka_topic", "termName": f"Contact@{name}"}).json()["entities"]
    assert typed == []
    check_error(http.post(search, json={"termName": "NoSuchTerm@nowhere"}), 400, "ATLAS-400-00-01A", "no glossary")
