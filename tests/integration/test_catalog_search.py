"""Basic search, DSL and lineage against a real catalog server (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.catalog_support import CatalogServer
from tests.integration.test_catalog_entities import ENTITY, check_error, schema_with_fields, token, topic

SEARCH = "/api/atlas/v2/search"


@dataclass
class Landscape:
    token: str
    fields: dict[str, str]  # field name -> guid
    raw: str
    anonymised: str
    pipeline: str
    policy: str


@pytest.fixture(scope="module")
def landscape(catalog: CatalogServer) -> Landscape:
    """A raw topic with tagged fields, a pipeline to an anonymised topic, a policy; all names share a token."""
    mark = f"s{token()}"
    http = catalog.http("steward")
    names = ["user_id", "email", "full_name", "tv_show", "notes"]
    made = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(f"{mark}-raw", names)}).json()
    fields = {name: made["guidAssignments"][f"-{10 + i}"] for i, name in enumerate(names)}
    tags = {
        "user_id": ("USER_ID", 0.95, "confirmed"),
        "email": ("EMAIL_ADDRESS", 0.9, "suggested"),
        "full_name": ("PERSON", 0.6, "suggested"),
        "notes": ("deid_PII", 0.4, "suggested"),
        "tv_show": ("NON_PII", 1.0, "confirmed"),
    }
    for field, (tag, confidence, status) in tags.items():
        body = [{"typeName": tag, "attributes": {"confidence": confidence, "source": "detected", "status": status}}]
        assert http.post(f"{catalog.url}{ENTITY}/guid/{fields[field]}/classifications", json=body).status_code == 204
    anonymised = http.post(f"{catalog.url}{ENTITY}", json={"entity": topic(f"{mark}-anon", partitionCount=12)}).json()
    pipeline = http.post(
        f"{catalog.url}{ENTITY}",
        json={
            "entity": {
                "typeName": "deid_pipeline",
                "attributes": {
                    "qualifiedName": f"{mark}-pipeline@eu",
                    "name": f"{mark} pipeline",
                    "domain": mark,
                    "inputs": [{"typeName": "kafka_topic", "uniqueAttributes": {"qualifiedName": f"{mark}-raw@eu"}}],
                    "outputs": [{"guid": anonymised["guidAssignments"]["-1"]}],
                },
            }
        },
    ).json()
    policy = http.post(
        f"{catalog.url}{ENTITY}",
        json={
            "entity": {
                "typeName": "deid_policy",
                "attributes": {
                    "qualifiedName": f"{mark}-policy-v1@eu",
                    "name": f"{mark} policy v1",
                    "domain": mark,
                    "version": 1,
                    "status": "published",
                    "rules": '{"fields": {}}',
                },
            }
        },
    ).json()
    raw = http.get(
        f"{catalog.url}{ENTITY}/uniqueAttribute/type/kafka_topic", params={"attr:qualifiedName": f"{mark}-raw@eu"}
    ).json()["entity"]["guid"]
    return Landscape(
        mark,
        fields,
        raw,
        anonymised["guidAssignments"]["-1"],
        pipeline["mutatedEntities"]["CREATE"][0]["guid"],
        policy["mutatedEntities"]["CREATE"][0]["guid"],
    )


def _names(result: dict[str, Any]) -> list[str]:
    return [e["attributes"].get("name") for e in result.get("entities") or []]


def _post(catalog: CatalogServer, **body: Any) -> dict[str, Any]:
    answer = catalog.http("viewer").post(f"{catalog.url}{SEARCH}/basic", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _starts(land: Landscape) -> dict[str, Any]:
    return {"attributeName": "qualifiedName", "operator": "startsWith", "attributeValue": land.token}


def test_basic_search_by_type_classification_and_text(catalog: CatalogServer, landscape: Landscape) -> None:
    viewer = catalog.http("viewer")
    got = viewer.get(f"{catalog.url}{SEARCH}/basic", params={"typeName": "avro_field", "query": landscape.token})
    assert got.status_code == 200 and got.json()["queryType"] == "BASIC"
    assert sorted(_names(got.json())) == ["email", "full_name", "notes", "tv_show", "user_id"]

    pii = _post(catalog, typeName="avro_field", classification="PII", entityFilters=_starts(landscape))
    assert sorted(_names(pii)) == ["email", "full_name", "notes", "user_id"]
    assert pii["approximateCount"] == 4
    header = next(e for e in pii["entities"] if e["attributes"]["name"] == "email")
    assert header["classificationNames"] == ["EMAIL_ADDRESS"] and header["guid"] == landscape.fields["email"]
    direct = _post(
        catalog,
        typeName="avro_field",
        classification="PII",
        includeSubClassifications=False,
        entityFilters=_starts(landscape),
    )
    assert _names(direct) == ["notes"]
    non_pii = _post(catalog, classification="NON_PII", query=landscape.token)
    assert _names(non_pii) == ["tv_show"]
    untagged = _post(catalog, typeName="avro_field", classification="_NOT_CLASSIFIED", query=landscape.token)
    assert _names(untagged) == []
    anything = _post(catalog, typeName="avro_field", classification="_CLASSIFIED", query=landscape.token)
    assert anything["approximateCount"] == 5
    suggested = _post(
        catalog,
        typeName="avro_field",
        classification="PII",
        entityFilters=_starts(landscape),
        tagFilters={"attributeName": "status", "operator": "=", "attributeValue": "suggested"},
    )
    assert sorted(_names(suggested)) == ["email", "full_name", "notes"]
    confident = _post(
        catalog,
        classification="PII",
        query=landscape.token,
        tagFilters={
            "condition": "AND",
            "criterion": [
                {"attributeName": "confidence", "operator": ">=", "attributeValue": "0.6"},
                {"attributeName": "status", "operator": "!=", "attributeValue": "confirmed"},
            ],
        },
    )
    assert sorted(_names(confident)) == ["email", "full_name"]

    datasets = _post(catalog, typeName="DataSet", query=landscape.token)
    assert {e["typeName"] for e in datasets["entities"]} == {"kafka_topic", "avro_schema", "avro_field"}
    exact = _post(catalog, typeName="DataSet", includeSubTypes=False, query=landscape.token)
    assert exact["approximateCount"] == 0


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"attributeName": "name", "operator": "=", "attributeValue": "email"}, ["email"]),
        ({"attributeName": "name", "operator": "eq", "attributeValue": "email"}, ["email"]),
        ({"attributeName": "name", "operator": "startsWith", "attributeValue": "FULL"}, ["full_name"]),
        ({"attributeName": "name", "operator": "endsWith", "attributeValue": "_id"}, ["user_id"]),
        ({"attributeName": "name", "operator": "contains", "attributeValue": "_"}, ["full_name", "tv_show", "user_id"]),
        ({"attributeName": "name", "operator": "like", "attributeValue": "*M*"}, ["email", "full_name"]),
        ({"attributeName": "name", "operator": "in", "attributeValue": ["notes", "email"]}, ["email", "notes"]),
        ({"attributeName": "doc", "operator": "isNull"}, ["email", "full_name", "notes", "tv_show", "user_id"]),
        ({"attributeName": "doc", "operator": "notNull"}, []),
        ({"condition": "OR", "criterion": [
            {"attributeName": "name", "operator": "=", "attributeValue": "notes"},
            {"attributeName": "name", "operator": "=", "attributeValue": "user_id"}]}, ["notes", "user_id"]),
        ({"condition": "AND", "criterion": [
            {"attributeName": "name", "operator": "!=", "attributeValue": "notes"},
            {"attributeName": "name", "operator": "not_contains", "attributeValue": "_"}]}, ["email"]),
    ],
)  # fmt: skip
def test_entity_filter_operators(
    catalog: CatalogServer, landscape: Landscape, criteria: dict[str, Any], expected: list[str]
) -> None:
    filters = {"condition": "AND", "criterion": [_starts(landscape), criteria]}
    assert sorted(_names(_post(catalog, typeName="avro_field", entityFilters=filters))) == expected


def test_numeric_filters_sorting_and_paging(catalog: CatalogServer, landscape: Landscape) -> None:
    topics = _post(
        catalog,
        typeName="kafka_topic",
        entityFilters={"attributeName": "partitionCount", "operator": ">", "attributeValue": 10},
        query=landscape.token,
    )
    assert _names(topics) == [f"{landscape.token}-anon"]
    by_name = {"typeName": "avro_field", "entityFilters": _starts(landscape), "sortBy": "name"}
    assert _names(_post(catalog, **by_name)) == ["email", "full_name", "notes", "tv_show", "user_id"]
    page = _post(catalog, **by_name, sortOrder="DESCENDING", limit=2, offset=1)
    assert _names(page) == ["tv_show", "notes"] and page["approximateCount"] == 5
    with_attributes = _post(catalog, typeName="deid_policy", query=landscape.token, attributes=["version", "status"])
    assert with_attributes["entities"][0]["attributes"]["version"] == 1
    assert with_attributes["entities"][0]["attributes"]["status"] == "published"
    system = _post(
        catalog,
        typeName="avro_field",
        entityFilters={"attributeName": "__guid", "operator": "=", "attributeValue": landscape.fields["notes"]},
    )
    assert _names(system) == ["notes"]


def test_deleted_entities_are_left_out_unless_asked(catalog: CatalogServer, landscape: Landscape) -> None:
    http = catalog.http("steward")
    extra = http.post(f"{catalog.url}{ENTITY}", json={"entity": topic(f"{landscape.token}-gone")}).json()
    http.delete(f"{catalog.url}{ENTITY}/guid/{extra['guidAssignments']['-1']}")
    query = {"typeName": "kafka_topic", "query": f"{landscape.token}-gone"}
    assert _post(catalog, **query)["approximateCount"] == 0
    assert _post(catalog, **query, excludeDeletedEntities=False)["entities"][0]["status"] == "DELETED"


def test_basic_search_errors(catalog: CatalogServer) -> None:
    http = catalog.http("viewer")
    url = f"{catalog.url}{SEARCH}/basic"
    check_error(http.post(url, json={}), 400, "ATLAS-400-00-047")
    check_error(http.get(url), 400, "ATLAS-400-00-047")
    check_error(http.post(url, json={"typeName": "nope"}), 400, "ATLAS-400-00-00A", "nope")
    check_error(http.post(url, json={"classification": "NOPE"}), 400, "ATLAS-400-00-046", "NOPE")
    bad_operator = {"typeName": "kafka_topic", "entityFilters": {"attributeName": "name", "operator": "~"}}
    check_error(http.post(url, json=bad_operator), 400, "ATLAS-400-00-01A", "~")
    bad_attribute = {"typeName": "kafka_topic", "entityFilters": {"attributeName": "colour", "operator": "="}}
    check_error(http.post(url, json=bad_attribute), 400, "ATLAS-400-00-023", "colour")
    for limit, offset in ((0, 0), (-1, -1)):  # Atlas's defaults, as its clients expect
        paged = http.get(url, params={"typeName": "kafka_topic", "limit": limit, "offset": offset})
        assert paged.status_code == 200 and paged.json()["searchParameters"]["offset"] == 0, paged.text
        assert paged.json()["searchParameters"].get("limit") is None
    posted = http.post(url, json={"typeName": "kafka_topic", "limit": -1, "offset": -1})
    assert posted.status_code == 200, posted.text
    dsl = http.get(f"{catalog.url}{SEARCH}/dsl", params={"query": "from DataSet", "limit": -1, "offset": -1})
    assert dsl.status_code == 200, dsl.text
    check_error(http.post(url, json={"termName": "glossary"}), 400, "ATLAS-400-00-01A", "no glossary term")


def test_dsl(catalog: CatalogServer, landscape: Landscape) -> None:
    http = catalog.http("viewer")

    def dsl(query: str, **params: Any) -> list[str]:
        answer = http.get(f"{catalog.url}{SEARCH}/dsl", params={"query": query, **params})
        assert answer.status_code == 200, answer.text
        assert answer.json()["queryType"] == "DSL" and answer.json()["queryText"] == query
        return sorted(_names(answer.json()))

    mark = landscape.token
    assert dsl(f'kafka_topic where qualifiedName = "{mark}-raw@eu"') == [f"{mark}-raw"]
    assert dsl(f'avro_field where qualifiedName like "{mark}-raw*" and name like "*_id"') == ["user_id"]
    assert dsl(f"avro_field where qualifiedName like '{mark}*' and (name = 'email' or name = 'notes')") == [
        "email",
        "notes",
    ]
    assert dsl(f'avro_field isa PII where qualifiedName like "{mark}*"') == ["email", "full_name", "notes", "user_id"]
    assert dsl(f'PERSON where qualifiedName like "{mark}*"') == ["full_name"]
    assert dsl(f'avro_field where avro_field.name = "tv_show" and qualifiedName like "{mark}*"') == ["tv_show"]
    assert dsl(f'from deid_policy where domain = "{mark}" and version >= 1 and has rules') == [f"{mark} policy v1"]
    ordered = http.get(
        f"{catalog.url}{SEARCH}/dsl",
        params={"query": f'avro_field where qualifiedName like "{mark}*" orderby name desc limit 2 offset 1'},
    ).json()
    assert _names(ordered) == ["tv_show", "notes"]
    limited = dsl(f'avro_field where qualifiedName like "{mark}*"', limit=1, offset=0)
    assert len(limited) == 1

    url = f"{catalog.url}{SEARCH}/dsl"
    check_error(http.get(url, params={"query": "no_such_type"}), 400, "ATLAS-400-00-05B", "no_such_type")
    check_error(http.get(url, params={"query": "kafka_topic where colour = 'x'"}), 400, "ATLAS-400-00-05D", "colour")
    check_error(http.get(url, params={"query": "kafka_topic isa NOPE"}), 400, "ATLAS-400-00-05C", "NOPE")
    check_error(http.get(url, params={"query": "kafka_topic where name = "}), 400, "ATLAS-400-00-059")
    check_error(http.get(url, params={"query": "kafka_topic where name = 'x' )"}), 400, "ATLAS-400-00-059")
    check_error(http.get(url, params={"query": "kafka_topic select name"}), 400, "ATLAS-400-00-059", "select")
    check_error(http.get(url), 400, "ATLAS-400-00-029", "query")


def test_lineage(catalog: CatalogServer, landscape: Landscape) -> None:
    http = catalog.http("viewer")
    url = f"{catalog.url}/api/atlas/v2/lineage"
    both = http.get(f"{url}/{landscape.raw}").json()
    assert both["baseEntityGuid"] == landscape.raw and both["lineageDirection"] == "BOTH"
    edges = {(r["fromEntityId"], r["toEntityId"]) for r in both["relations"]}
    assert edges == {(landscape.raw, landscape.pipeline), (landscape.pipeline, landscape.anonymised)}
    assert both["guidEntityMap"][landscape.pipeline]["typeName"] == "deid_pipeline"

    upstream = http.get(f"{url}/{landscape.anonymised}", params={"direction": "INPUT"}).json()
    assert {(r["fromEntityId"], r["toEntityId"]) for r in upstream["relations"]} == edges
    assert http.get(f"{url}/{landscape.raw}", params={"direction": "INPUT"}).json()["relations"] == []
    around_pipeline = http.get(f"{url}/{landscape.pipeline}").json()
    assert {(r["fromEntityId"], r["toEntityId"]) for r in around_pipeline["relations"]} == edges
    assert http.get(f"{url}/{landscape.raw}", params={"depth": 0}).json()["relations"] == []
    by_name = http.get(
        f"{url}/uniqueAttribute/type/kafka_topic",
        params={"attr:qualifiedName": f"{landscape.token}-anon@eu", "direction": "INPUT"},
    ).json()
    assert by_name["baseEntityGuid"] == landscape.anonymised and len(by_name["relations"]) == 2

    check_error(http.get(f"{url}/{landscape.policy}"), 404, "ATLAS-404-00-011")
    check_error(http.get(f"{url}/00000000-0000-0000-0000-000000000000"), 404, "ATLAS-404-00-005")
    check_error(http.get(f"{url}/{landscape.raw}", params={"direction": "SIDEWAYS"}), 400, "ATLAS-400-00-029")
