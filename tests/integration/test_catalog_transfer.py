"""Atlas's admin export (zip) and import, metrics and purge, against real catalog servers: export a
schema with its fields from one catalog, import it into a fresh one, and find the same entities there."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import requests

from tests.catalog_support import CatalogServer, start_catalog
from tests.integration.test_catalog_entities import ENTITY, check_error, schema_with_fields

ADMIN = "/api/atlas/admin"


def _landscape(catalog: CatalogServer, name: str) -> dict[str, str]:
    http = catalog.http("steward")
    answer = http.post(f"{catalog.url}{ENTITY}/bulk", json={"entities": schema_with_fields(name, ["a", "b", "c"])})
    assert answer.status_code == 200, answer.text
    assignments = answer.json()["guidAssignments"]
    tagged = http.post(f"{catalog.url}{ENTITY}/guid/{assignments['-10']}/classifications",
                       json=[{"typeName": "PERSON", "attributes": {"confidence": 0.9, "status": "confirmed",
                                                                    "source": "steward"}}])  # fmt: skip
    assert tagged.status_code == 204, tagged.text
    return assignments


def test_export_then_import_into_a_fresh_catalog(catalog: CatalogServer, tmp_path: Path) -> None:
    name = f"xfer-{uuid.uuid4().hex[:8]}"
    _landscape(catalog, name)
    admin = catalog.http("admin")
    request = {"itemsToExport": [{"typeName": "kafka_topic", "uniqueAttributes": {"qualifiedName": f"{name}@eu"}}],
               "options": {"fetchType": "full"}}  # fmt: skip
    exported = admin.post(f"{catalog.url}{ADMIN}/export", json=request, timeout=60)
    assert exported.status_code == 200, exported.text[:300]
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        order = json.loads(archive.read("atlas-export-order.json"))
        info = json.loads(archive.read("atlas-export-info.json"))
        types = json.loads(archive.read("atlas-typesdef.json"))
        assert len(order) == 5 and all(f"{guid}.json" in archive.namelist() for guid in order)
    assert info["operationStatus"] == "SUCCESS" and info["metrics"]["entity:avro_field"] == 3
    assert {"kafka_topic", "avro_schema", "avro_field", "DataSet", "Referenceable"} <= {
        d["name"] for d in types["entityDefs"]
    }
    assert "PERSON" in {d["name"] for d in types["classificationDefs"]}
    connected = admin.post(f"{catalog.url}{ADMIN}/export",
                           json={**request, "options": {"fetchType": "connected"}}, timeout=60)  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(connected.content)) as archive:
        assert len(json.loads(archive.read("atlas-export-order.json"))) == 2  # the topic and its schema

    fresh = start_catalog(tmp_path / "fresh")
    try:
        target = fresh.http("admin")
        files = {"data": ("export.zip", exported.content, "application/zip")}
        imported = target.post(f"{fresh.url}{ADMIN}/import", files=files, timeout=120)
        assert imported.status_code == 200, imported.text
        assert imported.json()["operationStatus"] == "SUCCESS" and len(imported.json()["processedEntities"]) == 5
        found = target.get(f"{fresh.url}{ENTITY}/uniqueAttribute/type/avro_schema",
                           params={"attr:qualifiedName": f"{name}-value@eu"}).json()["entity"]  # fmt: skip
        assert len(found["relationshipAttributes"]["fields"]) == 3
        assert found["relationshipAttributes"]["associatedEntities"][0]["displayText"] == name
        field = target.get(f"{fresh.url}{ENTITY}/uniqueAttribute/type/avro_field",
                           params={"attr:qualifiedName": f"{name}-value@eu.a"}).json()["entity"]  # fmt: skip
        assert [c["typeName"] for c in field["classifications"]] == ["PERSON"]
        again = target.post(f"{fresh.url}{ADMIN}/import", files=files, timeout=120)
        assert again.status_code == 200 and again.json()["metrics"]["entity:created"] == 0  # idempotent
        check_error(target.post(f"{fresh.url}{ADMIN}/import", files={"data": ("x.zip", b"not a zip")}), 400,
                    "ATLAS-400-00-029", "not a zip")  # fmt: skip
    finally:
        fresh.stop()
    check_error(catalog.http("steward").post(f"{catalog.url}{ADMIN}/export", json=request), 403, "ATLAS-403-00-001")
    check_error(admin.post(f"{catalog.url}{ADMIN}/export", json={"itemsToExport": []}), 400, "ATLAS-400-00-01A")


def test_metrics_and_purge(catalog: CatalogServer) -> None:
    name = f"purge-{uuid.uuid4().hex[:8]}"
    assignments = _landscape(catalog, name)
    admin, steward = catalog.http("admin"), catalog.http("steward")
    metrics = steward.get(f"{catalog.url}{ADMIN}/metrics").json()
    assert metrics["entity"]["entityActive"]["avro_field"] >= 3 and metrics["tag"]["tagEntities"]["PERSON"] >= 1
    assert metrics["general"]["typeCount"] > 50
    topic = assignments["-1"]
    check_error(steward.put(f"{catalog.url}{ADMIN}/purge", json=[topic]), 403, "ATLAS-403-00-001")
    alive = admin.put(f"{catalog.url}{ADMIN}/purge", json=[topic])
    assert alive.status_code == 200 and alive.json()["mutatedEntities"] == {}  # ACTIVE entities are not purged
    assert steward.delete(f"{catalog.url}{ENTITY}/guid/{topic}").status_code == 200
    purged = admin.put(f"{catalog.url}{ADMIN}/purge", json=[topic])
    assert purged.status_code == 200, purged.text
    assert [h["guid"] for h in purged.json()["mutatedEntities"]["PURGE"]] == [topic]
    check_error(steward.get(f"{catalog.url}{ENTITY}/guid/{topic}"), 404, "ATLAS-404-00-005")
    schema = steward.get(f"{catalog.url}{ENTITY}/guid/{assignments['-2']}").json()["entity"]
    assert schema["relationshipAttributes"]["associatedEntities"] == []  # the edge went with it
    audit = admin.get(f"{catalog.url}/api/deid/v1/audit", params={"entityGuid": topic}).json()["events"]
    assert audit[-1]["action"] == "ENTITY_PURGE"
    assert requests.get(f"{catalog.url}{ADMIN}/metrics", timeout=30).status_code == 401
