"""`catalog.client.CatalogClient` against a real catalog (SQLite and PostgreSQL), plus its retries and
errors against real servers that fail (a socket nobody listens on, a server answering 503)."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.client import (
    BadRequest,
    CatalogClient,
    CatalogUnavailable,
    Conflict,
    Forbidden,
    NotFound,
    ServerError,
    Unauthorized,
    all_of,
    assigned_guid,
    classification,
    criterion,
    default_credentials,
    entity,
    object_id,
)
from deid.errors import ConfigError
from deid.settings import Settings
from deid.stack.process import free_port
from tests.catalog_support import CatalogServer


def _topic(name: str, guid: str) -> dict:  # type: ignore[type-arg]
    return entity(
        "kafka_topic", {"qualifiedName": f"{name}@eu", "name": name, "topic": name, "uri": f"kafka://{name}"}, guid=guid
    )


def test_client_round_trip(catalog: CatalogServer) -> None:
    client = catalog.client("steward")
    assert client.status() == "ACTIVE"
    assert client.session_info()["roles"] == ["steward"]
    mark = f"c{uuid.uuid4().hex[:8]}"
    fields = [
        entity("avro_field", {"qualifiedName": f"{mark}-raw-value@eu.{n}", "name": n}, guid=f"-{i + 10}")
        for i, n in enumerate(["user_id", "date"])
    ]
    schema = entity(
        "avro_schema",
        {
            "qualifiedName": f"{mark}-raw-value@eu",
            "name": f"{mark}-raw-value",
            "type": "record",
            "namespace": "deid",
            "fields": [{"guid": f["guid"]} for f in fields],
        },
        guid="-2",
        relationship_attributes={"associatedEntities": [{"guid": "-1"}]},
    )
    result = client.upsert_entities([_topic(f"{mark}-raw", "-1"), schema, *fields])
    topic_guid = assigned_guid(result, "-1")
    assert topic_guid and len(result["mutatedEntities"]["CREATE"]) == 4
    assert client.upsert_entities([_topic(f"{mark}-raw", "-1")])["mutatedEntities"] == {}
    assert client.find_entity("kafka_topic", f"{mark}-raw@eu")["guid"] == topic_guid  # type: ignore[index]
    assert client.find_entity("kafka_topic", f"{mark}-missing@eu") is None
    assert client.get_entity(topic_guid)["entity"]["attributes"]["topic"] == f"{mark}-raw"
    assert [e["guid"] for e in client.get_entities([topic_guid])["entities"]] == [topic_guid]
    client.update_entity_by_qualified_name("kafka_topic", f"{mark}-raw@eu", {"description": "raw"})
    client.set_attribute(topic_guid, "partitionCount", 3)
    attributes = client.get_entity_by_qualified_name("kafka_topic", f"{mark}-raw@eu")["entity"]["attributes"]
    assert attributes["description"] == "raw" and attributes["partitionCount"] == 3

    field = assigned_guid(result, "-10")
    assert field is not None
    client.upsert_classifications(
        field, [classification("USER_ID", confidence=0.9, source="detected", status="suggested")]
    )
    client.upsert_classifications(
        field, [classification("USER_ID", confidence=0.95, source="detected"), classification("deid_PII")]
    )
    tags = {c["typeName"]: c["attributes"] for c in client.get_classifications(field)}
    assert set(tags) == {"USER_ID", "deid_PII"} and tags["USER_ID"]["confidence"] == 0.95
    client.remove_classification(field, "deid_PII")
    assert client.get_classification(field, "USER_ID")["attributes"]["status"] == "suggested"
    client.classify_entities(classification("NON_PII"), [assigned_guid(result, "-11")])  # type: ignore[list-item]

    pipeline = entity(
        "deid_pipeline",
        {
            "qualifiedName": f"{mark}-pipeline@eu",
            "name": "pipeline",
            "domain": mark,
            "inputs": [object_id("kafka_topic", f"{mark}-raw@eu")],
            "outputs": [{"guid": "-3"}],
        },
        guid="-4",
    )
    lineage_result = client.upsert_entities([pipeline, _topic(f"{mark}-anon", "-3")])
    lineage = client.get_lineage(topic_guid, direction="OUTPUT")
    assert len(lineage["relations"]) == 2 and assigned_guid(lineage_result, "-4") in lineage["guidEntityMap"]

    found = list(
        client.search_all(
            type_name="avro_field",
            entity_filters=all_of(criterion("qualifiedName", "startsWith", mark), criterion("name", "!=", "x")),
            page_size=1,
        )
    )
    assert sorted(h["attributes"]["name"] for h in found) == ["date", "user_id"]
    tagged = client.search_basic(classification="PII", query=mark)["entities"]
    assert [h["guid"] for h in tagged] == [field]
    assert client.search_dsl(f'kafka_topic where qualifiedName like "{mark}*"')["approximateCount"] == 2

    start = client.audit_feed(since=0, limit=10000)["next"]
    client.record_audit("REIDENTIFY", entity_guid=topic_guid, details={"records": 3})
    feed = client.audit_feed(since=start, action="REIDENTIFY")
    assert [e["details"] for e in feed["events"]] == [{"records": 3}]
    assert [e["action"] for e in client.get_entity_audit(topic_guid, count=2)] == ["REIDENTIFY", "ENTITY_UPDATE"]

    assert client.delete_entity(topic_guid)["mutatedEntities"]["DELETE"][0]["guid"] == topic_guid
    assert client.delete_entities([field])["mutatedEntities"]["DELETE"][0]["guid"] == field


def test_client_typedefs_and_errors(catalog: CatalogServer) -> None:
    admin = catalog.client("admin")
    name = f"client_kind_{uuid.uuid4().hex[:8]}"
    types = {"entityDefs": [{"name": name, "superTypes": ["DataSet"], "attributeDefs": []}]}
    assert admin.ensure_typedefs(types) == [name]
    assert admin.ensure_typedefs(types) == []
    assert admin.get_entity_def(name)["superTypes"] == ["DataSet"]
    assert admin.get_classification_def("deid_PII")["name"] == "deid_PII"
    assert name in {d["name"] for d in admin.get_typedefs(type="entity")["entityDefs"]}
    with pytest.raises(Conflict) as conflict:
        admin.create_typedefs(types)
    assert conflict.value.status == 409 and conflict.value.error_code == "ATLAS-409-00-001"
    types["entityDefs"][0]["attributeDefs"] = [{"name": "extra", "typeName": "int", "isOptional": True}]
    assert admin.update_typedefs(types)["entityDefs"][0]["version"] == 2
    admin.delete_typedef(name)
    with pytest.raises(NotFound, match="ATLAS-404-00-001"):
        admin.get_typedef(name)
    admin.create_typedefs(types)
    admin.delete_typedefs({"entityDefs": [{"name": name}]})

    with pytest.raises(BadRequest, match="ATLAS-400-00-014"):
        admin.upsert_entity(entity("no_such_type", {}))
    with pytest.raises(Forbidden):
        catalog.client("viewer").upsert_entity(_topic("x", "-1"))
    impostor = CatalogClient(catalog.url, "admin", "not-the-password")
    assert impostor.status() == "ACTIVE"  # the health check needs no credentials
    with pytest.raises(Unauthorized, match="ATLAS-401-00-001"):
        impostor.session_info()


def test_unreachable_catalog_is_retried_then_reported() -> None:
    client = CatalogClient(f"http://127.0.0.1:{free_port()}", "admin", "pw", retries=2, backoff=0.01, timeout=2)
    started = time.monotonic()
    with pytest.raises(CatalogUnavailable, match="did not answer GET /api/atlas/admin/status"):
        client.status()
    assert time.monotonic() - started < 30


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` requests, then 200 {"Status": "ACTIVE"}."""

    failures = 2
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        status = 503 if type(self).seen <= type(self).failures else 200
        body = b'{"errorCode": "X", "errorMessage": "busy"}' if status == 503 else b'{"Status": "ACTIVE"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, type[_Flaky]]]:
    handler = type("Flaky", (_Flaky,), {"seen": 0, "failures": 2})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()


def test_server_errors_are_retried_with_backoff(flaky_server: tuple[str, type[_Flaky]]) -> None:
    url, handler = flaky_server
    assert CatalogClient(url, "u", "p", retries=3, backoff=0.01).status() == "ACTIVE"
    assert handler.seen == 3
    handler.seen, handler.failures = 0, 10
    with pytest.raises(ServerError) as failure:
        CatalogClient(url, "u", "p", retries=2, backoff=0.01).status()
    assert failure.value.status == 503 and handler.seen == 3


def test_default_credentials(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"DEID_CATALOG_PASSWORD.*admin-password"):
        default_credentials(settings)
    settings.admin_password_file.parent.mkdir(parents=True)
    settings.admin_password_file.write_text("from-the-file\n")
    assert default_credentials(settings) == ("admin", "from-the-file")
    assert default_credentials(Settings(data_dir=tmp_path, catalog_password="given")) == ("admin", "given")
    stewarded = Settings(data_dir=tmp_path, catalog_user="steward1", catalog_password="pw")
    assert default_credentials(stewarded) == ("steward1", "pw")
    with pytest.raises(ConfigError, match="catalog user 'steward1'"):
        default_credentials(Settings(data_dir=tmp_path, catalog_user="steward1"))
    client = CatalogClient.from_settings(Settings(data_dir=tmp_path, catalog_url="http://127.0.0.1:1/"))
    assert client.url == "http://127.0.0.1:1" and client.user == "admin"
