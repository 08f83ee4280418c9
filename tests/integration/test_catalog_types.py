"""Typedef endpoints of the catalog against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text

from tests.catalog_support import CatalogServer, start_catalog

TYPES = "/api/atlas/v2/types"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _assert_error(response, status: int, code: str, *words: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code, body
    for word in words:
        assert word in body["errorMessage"], body
    return body


def test_bootstrap_types_are_there(catalog: CatalogServer) -> None:
    http = catalog.http("viewer")
    headers = http.get(f"{catalog.url}{TYPES}/typedefs/headers").json()
    names = {h["name"]: h["category"] for h in headers}
    for name in ("Referenceable", "Asset", "DataSet", "Process", "kafka_topic", "avro_schema", "avro_field"):
        assert names[name] == "ENTITY"
    for name in ("deid_PII", "PERSON", "EMAIL_ADDRESS", "USER_ID", "IBAN_CODE", "US_SSN", "NL_BSN", "NON_PII"):
        assert names[name] == "CLASSIFICATION"
    assert names["deid_pipeline"] == names["deid_policy"] == "ENTITY"
    assert names["dataset_process_inputs"] == "RELATIONSHIP"

    pii = http.get(f"{catalog.url}{TYPES}/classificationdef/name/deid_PII").json()
    assert {a["name"] for a in pii["attributeDefs"]} >= {"confidence", "source", "status", "evidence"}
    assert "PERSON" in pii["subTypes"] and "NON_PII" not in pii["subTypes"]

    pipeline = http.get(f"{catalog.url}{TYPES}/entitydef/name/deid_pipeline").json()
    assert pipeline["superTypes"] == ["Process"]
    relationship_attrs = {a["name"] for a in pipeline["relationshipAttributeDefs"]}
    assert {"inputs", "outputs"} <= relationship_attrs

    topic = http.get(f"{catalog.url}{TYPES}/typedef/name/kafka_topic").json()
    assert topic["category"] == "ENTITY" and topic["typeVersion"] == "1.1"
    assert "partitionCount" in {a["name"] for a in topic["attributeDefs"]}
    by_guid = http.get(f"{catalog.url}{TYPES}/typedef/guid/{topic['guid']}").json()
    assert by_guid["name"] == "kafka_topic"
    entity_by_guid = http.get(f"{catalog.url}{TYPES}/entitydef/guid/{topic['guid']}")
    assert entity_by_guid.status_code == 200

    only_classifications = http.get(f"{catalog.url}{TYPES}/typedefs", params={"type": "classification"}).json()
    assert only_classifications["entityDefs"] == [] and len(only_classifications["classificationDefs"]) > 20
    pii_family = http.get(f"{catalog.url}{TYPES}/typedefs", params={"supertype": "deid_PII", "type": "classification"})
    family = {d["name"] for d in pii_family.json()["classificationDefs"]}
    assert "PERSON" in family and "NON_PII" not in family


def test_create_update_delete_typedefs(catalog: CatalogServer) -> None:
    http = catalog.http("admin")
    enum, struct, tag, kind, link = (_name(p) for p in ("color", "point", "tag", "thing", "link"))
    payload = {
        "enumDefs": [{"name": enum, "elementDefs": [{"value": "RED"}, {"value": "BLUE"}]}],
        "structDefs": [{"name": struct, "attributeDefs": [{"name": "x", "typeName": "int", "isOptional": False}]}],
        "classificationDefs": [
            {"name": tag, "attributeDefs": [{"name": "level", "typeName": "int", "isOptional": True}]}
        ],
        "entityDefs": [
            {
                "name": kind,
                "superTypes": ["DataSet"],
                "attributeDefs": [
                    {"name": "color", "typeName": enum, "isOptional": True},
                    {"name": "where", "typeName": struct, "isOptional": True},
                    {"name": "tags", "typeName": "array<string>", "isOptional": True, "cardinality": "SET"},
                ],
            }
        ],
        "relationshipDefs": [
            {
                "name": link,
                "relationshipCategory": "ASSOCIATION",
                "endDef1": {"type": kind, "name": "peers", "cardinality": "SET"},
                "endDef2": {"type": kind, "name": "peerOf", "cardinality": "SET"},
            }
        ],
    }
    created = http.post(f"{catalog.url}{TYPES}/typedefs", json=payload)
    assert created.status_code == 200, created.text
    body = created.json()
    assert [d["name"] for d in body["entityDefs"]] == [kind]
    assert body["entityDefs"][0]["guid"] and body["entityDefs"][0]["version"] == 1
    assert body["enumDefs"][0]["elementDefs"][1] == {"value": "BLUE", "ordinal": 1}

    duplicate = http.post(f"{catalog.url}{TYPES}/typedefs", json={"enumDefs": payload["enumDefs"]})
    _assert_error(duplicate, 409, "ATLAS-409-00-001", enum)

    # An optional attribute may be added; the version moves and the change is visible.
    updated_def = dict(payload["entityDefs"][0])
    updated_def["attributeDefs"] = [
        *updated_def["attributeDefs"],
        {"name": "size", "typeName": "long", "isOptional": True},
    ]
    updated = http.put(f"{catalog.url}{TYPES}/typedefs", json={"entityDefs": [updated_def]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["entityDefs"][0]["version"] == 2
    got = http.get(f"{catalog.url}{TYPES}/entitydef/name/{kind}").json()
    assert "size" in {a["name"] for a in got["attributeDefs"]}
    assert "peers" in {a["name"] for a in got["relationshipAttributeDefs"]}

    mandatory = dict(updated_def)
    mandatory["attributeDefs"] = [*updated_def["attributeDefs"], {"name": "must", "typeName": "string"}]
    _assert_error(
        http.put(f"{catalog.url}{TYPES}/typedefs", json={"entityDefs": [mandatory]}), 400, "ATLAS-400-00-00C", "must"
    )
    removed = dict(updated_def)
    removed["attributeDefs"] = updated_def["attributeDefs"][:1]
    _assert_error(http.put(f"{catalog.url}{TYPES}/typedefs", json={"entityDefs": [removed]}), 400, "ATLAS-400-00-00D")
    unknown = {"entityDefs": [{"name": _name("nope"), "attributeDefs": []}]}
    _assert_error(http.put(f"{catalog.url}{TYPES}/typedefs", json=unknown), 404, "ATLAS-404-00-001")

    # Deleting the entity type while a relationshipDef uses it: 409; together with it: fine.
    in_use = http.delete(f"{catalog.url}{TYPES}/typedef/name/{kind}")
    _assert_error(in_use, 409, "ATLAS-409-00-005", kind)
    deleted = http.request(
        "DELETE",
        f"{catalog.url}{TYPES}/typedefs",
        json={"relationshipDefs": [{"name": link}], "entityDefs": [{"name": kind}], "enumDefs": [{"name": enum}]},
    )
    assert deleted.status_code == 204, deleted.text
    assert http.get(f"{catalog.url}{TYPES}/typedef/name/{kind}").status_code == 404
    assert http.delete(f"{catalog.url}{TYPES}/typedef/name/{struct}").status_code == 204
    assert http.delete(f"{catalog.url}{TYPES}/typedef/name/{tag}").status_code == 204
    _assert_error(http.delete(f"{catalog.url}{TYPES}/typedef/name/{tag}"), 404, "ATLAS-404-00-001", tag)


def test_invalid_typedefs_are_400_naming_the_problem(catalog: CatalogServer) -> None:
    http = catalog.http("admin")
    url = f"{catalog.url}{TYPES}/typedefs"
    name = _name("bad")
    cases = [
        ({"entityDefs": [{"name": name, "attributeDefs": [{"name": "a", "typeName": "no_such_type"}]}]},
         "ATLAS-400-00-001", "no_such_type"),
        ({"entityDefs": [{"name": name, "superTypes": ["NoSuchSuper"]}]}, "ATLAS-400-00-011", "NoSuchSuper"),
        ({"entityDefs": [{"name": "9starts-with-digit"}]}, "ATLAS-400-00-019", "9starts-with-digit"),
        ({"enumDefs": [{"name": name, "elementDefs": []}]}, "ATLAS-400-00-011", "elementDefs"),
        ({"entityDefs": [{"name": name, "attributeDefs": [{"name": "a", "typeName": "string"},
                                                          {"name": "a", "typeName": "int"}]}]},
         "ATLAS-400-00-011", "duplicate"),
        ({"entityDefs": [{"name": name, "superTypes": ["Referenceable"],
                          "attributeDefs": [{"name": "qualifiedName", "typeName": "string"}]}]},
         "ATLAS-400-00-011", "already defined"),
        ({"relationshipDefs": [{"name": name, "endDef1": {"type": "DataSet", "name": "a"},
                                "endDef2": {"type": "NoSuchEnd", "name": "b"}}]}, "ATLAS-400-00-035", "NoSuchEnd"),
        ({"classificationDefs": [{"name": name, "entityTypes": ["NoSuchEntity"]}]}, "ATLAS-400-00-052", "NoSuchEntity"),
        ({"entityDefs": [{"attributeDefs": []}]}, "ATLAS-400-00-029", "name"),
    ]  # fmt: skip
    for payload, code, word in cases:
        _assert_error(http.post(url, json=payload), 400, code, word)
    assert http.get(f"{catalog.url}{TYPES}/typedef/name/{name}").status_code == 404  # nothing half-created


def test_atlas_leniencies_on_typedefs(catalog: CatalogServer) -> None:
    """An empty batch is no error (Atlas answers empty lists); option values that are not strings are
    kept as strings ("maxStrLength": 50 → "50"), as Atlas's Map<String, String> options are."""
    http = catalog.http("admin")
    url = f"{catalog.url}{TYPES}/typedefs"
    empty = {"enumDefs": [], "structDefs": [], "classificationDefs": [], "entityDefs": [], "relationshipDefs": [],
             "businessMetadataDefs": []}  # fmt: skip
    for payload in (empty, {}):
        answer = http.post(url, json=payload)
        assert answer.status_code == 200, answer.text
        assert all(answer.json()[key] == [] for key in empty)
    assert http.put(url, json=empty).status_code == 200
    name = _name("bm")
    options = {"applicableEntityTypes": '["DataSet"]', "maxStrLength": 50, "flag": True}
    made = http.post(url, json={"businessMetadataDefs": [{"name": name, "attributeDefs": [
        {"name": "attr1", "typeName": "string", "isOptional": True, "options": options}]}]})  # fmt: skip
    assert made.status_code == 200, made.text
    stored = http.get(f"{catalog.url}{TYPES}/typedef/name/{name}").json()["attributeDefs"][0]["options"]
    assert stored == {"applicableEntityTypes": '["DataSet"]', "maxStrLength": "50", "flag": "true"}


def test_unknown_types_are_404(catalog: CatalogServer) -> None:
    http = catalog.http("viewer")
    for path in ("typedef/name/nope", "entitydef/name/nope", "classificationdef/name/nope", "enumdef/name/PII"):
        _assert_error(http.get(f"{catalog.url}{TYPES}/{path}"), 404, "ATLAS-404-00-001")
    _assert_error(http.get(f"{catalog.url}{TYPES}/typedef/guid/{uuid.uuid4()}"), 404, "ATLAS-404-00-002")
    assert http.get(f"{catalog.url}{TYPES}/widgetdef/name/PII").status_code == 400


def test_type_with_instances_cannot_be_deleted(catalog: CatalogServer) -> None:
    http = catalog.http("admin")
    kind = _name("kept")
    http.post(f"{catalog.url}{TYPES}/typedefs", json={"entityDefs": [{"name": kind, "superTypes": ["DataSet"]}]})
    made = http.post(
        f"{catalog.url}/api/atlas/v2/entity",
        json={"entity": {"typeName": kind, "attributes": {"qualifiedName": f"{kind}@x", "name": kind}}},
    )
    assert made.status_code == 200, made.text
    _assert_error(http.delete(f"{catalog.url}{TYPES}/typedef/name/{kind}"), 409, "ATLAS-409-00-002", kind)
    _assert_error(http.delete(f"{catalog.url}{TYPES}/typedef/name/DataSet"), 409, "ATLAS-409-00-002", "DataSet")


def test_users_own_pii_classification_does_not_clash_with_deids(tmp_path: Path) -> None:
    """Atlas's samples define a classification `PII`; deid's supertype is `deid_PII`. While no type is
    called `PII`, searches for it find deid's tags; once a user defines one, `PII` means theirs."""
    server = start_catalog(tmp_path / "own-pii")
    try:
        http = server.http("admin")
        field = {"typeName": "avro_field", "attributes": {"qualifiedName": "t-value@eu.mail", "name": "mail"},
                 "classifications": [{"typeName": "EMAIL_ADDRESS", "attributes": {"confidence": 0.9}}]}  # fmt: skip
        assert http.post(f"{server.url}/api/atlas/v2/entity", json={"entity": field}).status_code == 200
        search = f"{server.url}/api/atlas/v2/search/basic"
        found = http.post(search, json={"typeName": "avro_field", "classification": "PII"}).json()
        assert [e["displayText"] for e in found["entities"]] == ["mail"]
        dsl = http.get(f"{server.url}/api/atlas/v2/search/dsl", params={"query": "avro_field isa PII"}).json()
        assert [e["displayText"] for e in dsl["entities"]] == ["mail"]

        own = http.post(f"{server.url}{TYPES}/typedefs", json={"classificationDefs": [{"name": "PII"}]})
        assert own.status_code == 200, own.text
        assert http.post(search, json={"classification": "PII"}).json()["entities"] == []  # theirs, unused
        ours = http.post(search, json={"typeName": "avro_field", "classification": "deid_PII"}).json()
        assert [e["displayText"] for e in ours["entities"]] == ["mail"]
    finally:
        server.stop()


def test_an_old_catalog_is_migrated_to_deid_pii(tmp_path: Path) -> None:
    """A catalog created before the rename (supertype `PII`, tags stored under it) starts with `deid_PII`."""
    server = start_catalog(tmp_path / "old")
    store = server.app_context().store
    field = {"typeName": "avro_field", "attributes": {"qualifiedName": "old@eu.x", "name": "x"},
             "classifications": [{"typeName": "deid_PII", "attributes": {"confidence": 0.5}}]}  # fmt: skip
    assert server.http("admin").post(f"{server.url}/api/atlas/v2/entity", json={"entity": field}).status_code == 200
    server.stop()
    with store.engine.begin() as connection:  # put the database back in its pre-rename shape
        for guid, definition in connection.execute(text("SELECT guid, definition FROM typedefs")).fetchall():
            connection.execute(text("UPDATE typedefs SET definition = :d, name = CASE WHEN name = 'deid_PII' "
                                    "THEN 'PII' ELSE name END WHERE guid = :g"),
                               {"d": definition.replace('"deid_PII"', '"PII"'), "g": guid})  # fmt: skip
        connection.execute(text("UPDATE classifications SET type_name = 'PII' WHERE type_name = 'deid_PII'"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    store.dispose()
    again = start_catalog(tmp_path / "old")
    try:
        http = again.http("admin")
        assert http.get(f"{again.url}{TYPES}/typedef/name/PII").status_code == 404
        person = http.get(f"{again.url}{TYPES}/classificationdef/name/PERSON").json()
        assert person["superTypes"] == ["deid_PII"]
        entity = http.get(f"{again.url}/api/atlas/v2/entity/uniqueAttribute/type/avro_field",
                          params={"attr:qualifiedName": "old@eu.x"}).json()["entity"]  # fmt: skip
        assert [c["typeName"] for c in entity["classifications"]] == ["deid_PII"]
    finally:
        again.stop()
