"""Authentication, roles, user management and audit against a real catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64

import requests

from tests.catalog_support import CatalogServer
from tests.integration.test_catalog_entities import ENTITY, check_error, token, topic

USERS = "/api/deid/v1/users"
AUDIT = "/api/deid/v1/audit"


def test_status_is_public_everything_else_needs_credentials(catalog: CatalogServer) -> None:
    anonymous = catalog.http(None)
    status = anonymous.get(f"{catalog.url}/api/atlas/admin/status")
    assert status.status_code == 200 and status.json() == {"Status": "ACTIVE"}
    for path in ("/api/atlas/v2/types/typedefs", f"{ENTITY}/guid/x", "/api/atlas/v2/search/basic?typeName=Asset"):
        answer = anonymous.get(catalog.url + path)
        check_error(answer, 401, "ATLAS-401-00-001")
        assert answer.headers["WWW-Authenticate"].startswith("Basic")

    wrong = requests.get(f"{catalog.url}/api/atlas/admin/version", auth=("admin", "wrong-password"), timeout=30)
    check_error(wrong, 401, "ATLAS-401-00-001", "wrong user name or password")
    nobody = requests.get(f"{catalog.url}/api/atlas/admin/version", auth=("nobody", "whatever-pw"), timeout=30)
    check_error(nobody, 401, "ATLAS-401-00-001")
    for header in (
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":x").decode(),
    ):
        malformed = requests.get(
            f"{catalog.url}/api/atlas/admin/version", headers={"Authorization": header}, timeout=30
        )
        check_error(malformed, 401, "ATLAS-401-00-001", "malformed")
    bearer = requests.get(f"{catalog.url}/api/atlas/admin/version", headers={"Authorization": "Bearer x"}, timeout=30)
    check_error(bearer, 401, "ATLAS-401-00-001")
    version = catalog.http("viewer").get(f"{catalog.url}/api/atlas/admin/version").json()
    assert version["Name"] == "deid-catalog"
    session = catalog.http("steward").get(f"{catalog.url}/api/atlas/admin/session").json()
    assert session == {"userName": "test-steward", "groups": [], "roles": ["steward"]}


def test_roles(catalog: CatalogServer) -> None:
    viewer, steward, admin = catalog.http("viewer"), catalog.http("steward"), catalog.http("admin")
    body = {"entity": topic(f"roles-{token()}")}
    forbidden = viewer.post(f"{catalog.url}{ENTITY}", json=body)
    check_error(forbidden, 403, "ATLAS-403-00-001", "test-viewer", "POST /api/atlas/v2/entity")
    assert steward.post(f"{catalog.url}{ENTITY}", json=body).status_code == 200
    guid = steward.post(f"{catalog.url}{ENTITY}", json=body).json()["guidAssignments"]["-1"]
    assert viewer.get(f"{catalog.url}{ENTITY}/guid/{guid}").status_code == 200
    check_error(viewer.post(f"{catalog.url}{ENTITY}/guid/{guid}/classifications", json=[{"typeName": "deid_PII"}]), 403,
                "ATLAS-403-00-001")  # fmt: skip
    check_error(viewer.delete(f"{catalog.url}{ENTITY}/guid/{guid}"), 403, "ATLAS-403-00-001")

    typedef = {"enumDefs": [{"name": f"e_{token()}", "elementDefs": [{"value": "A"}]}]}
    check_error(steward.post(f"{catalog.url}/api/atlas/v2/types/typedefs", json=typedef), 403, "ATLAS-403-00-001")
    check_error(steward.delete(f"{catalog.url}/api/atlas/v2/types/typedef/name/deid_PII"), 403, "ATLAS-403-00-001")
    assert admin.post(f"{catalog.url}/api/atlas/v2/types/typedefs", json=typedef).status_code == 200
    check_error(steward.get(f"{catalog.url}{USERS}"), 403, "ATLAS-403-00-001")


def test_user_management(catalog: CatalogServer) -> None:
    admin, name = catalog.http("admin"), f"user-{token()}"
    created = admin.post(f"{catalog.url}{USERS}", json={"name": name, "password": "first-pass-1", "role": "viewer"})
    assert created.status_code == 201 and created.json() == {"name": name, "role": "viewer"}
    check_error(
        admin.post(f"{catalog.url}{USERS}", json={"name": name, "password": "first-pass-1", "role": "viewer"}),
        409,
        "DEID-409-00-001",
    )
    short = admin.post(f"{catalog.url}{USERS}", json={"name": f"{name}x", "password": "short", "role": "viewer"})
    check_error(short, 400, "ATLAS-400-00-029", "password")
    check_error(admin.post(f"{catalog.url}{USERS}", json={"name": "x", "password": "long-enough", "role": "god"}), 400,
                "ATLAS-400-00-029", "role")  # fmt: skip
    listed = {u["name"]: u["role"] for u in admin.get(f"{catalog.url}{USERS}").json()}
    assert listed[name] == "viewer" and listed["admin"] == "admin"
    assert all("password" not in str(u).lower() for u in admin.get(f"{catalog.url}{USERS}").json())

    me = requests.get(f"{catalog.url}/api/atlas/admin/session", auth=(name, "first-pass-1"), timeout=30)
    assert me.json() == {"userName": name, "groups": [], "roles": ["viewer"]}
    assert (
        admin.put(f"{catalog.url}{USERS}/{name}", json={"role": "steward", "password": "second-pass-2"}).status_code
        == 204
    )
    check_error(requests.get(f"{catalog.url}/api/atlas/admin/session", auth=(name, "first-pass-1"), timeout=30), 401,
                "ATLAS-401-00-001")  # fmt: skip
    me = requests.get(f"{catalog.url}/api/atlas/admin/session", auth=(name, "second-pass-2"), timeout=30)
    assert me.json() == {"userName": name, "groups": [], "roles": ["steward"]}

    check_error(
        admin.put(f"{catalog.url}{USERS}/admin", json={"role": "viewer"}), 400, "ATLAS-400-00-01A", "last admin"
    )
    check_error(admin.delete(f"{catalog.url}{USERS}/admin"), 400, "ATLAS-400-00-01A", "last admin")
    check_error(admin.put(f"{catalog.url}{USERS}/nobody-{token()}", json={"role": "viewer"}), 404, "DEID-404-00-001")
    assert admin.delete(f"{catalog.url}{USERS}/{name}").status_code == 204
    check_error(admin.delete(f"{catalog.url}{USERS}/{name}"), 404, "DEID-404-00-001")
    check_error(requests.get(f"{catalog.url}/api/atlas/admin/session", auth=(name, "second-pass-2"), timeout=30), 401,
                "ATLAS-401-00-001")  # fmt: skip
    actions = [
        e["action"]
        for e in admin.get(f"{catalog.url}{AUDIT}", params={"user": "admin", "limit": 10000}).json()["events"]
    ]
    assert {"USER_ADD", "USER_UPDATE", "USER_DELETE"} <= set(actions)


def test_entity_audit_trail(catalog: CatalogServer) -> None:
    steward, name = catalog.http("steward"), f"audited-{token()}"
    guid = steward.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name)}).json()["guidAssignments"]["-1"]
    steward.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name, description="v2")})
    steward.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name, description="v2")})  # no change, no event
    steward.post(
        f"{catalog.url}{ENTITY}/guid/{guid}/classifications",
        json=[{"typeName": "deid_PII", "attributes": {"status": "suggested"}}],
    )
    steward.put(
        f"{catalog.url}{ENTITY}/guid/{guid}/classifications",
        json=[{"typeName": "deid_PII", "attributes": {"status": "confirmed"}}],
    )
    steward.delete(f"{catalog.url}{ENTITY}/guid/{guid}/classification/deid_PII")
    steward.delete(f"{catalog.url}{ENTITY}/guid/{guid}")

    viewer = catalog.http("viewer")
    events = viewer.get(f"{catalog.url}{ENTITY}/{guid}/audit").json()
    assert [e["action"] for e in events] == [
        "ENTITY_DELETE",
        "CLASSIFICATION_DELETE",
        "CLASSIFICATION_UPDATE",
        "CLASSIFICATION_ADD",
        "ENTITY_UPDATE",
        "ENTITY_CREATE",
    ]
    assert all(e["user"] == "test-steward" and e["entityId"] == guid for e in events)
    update = events[4]
    assert update["before"]["attributes"].get("description") is None
    assert update["after"]["attributes"]["description"] == "v2"
    assert update["details"].startswith("Updated: {")
    tag_update = events[2]
    assert tag_update["before"]["attributes"]["status"] == "suggested"
    assert tag_update["after"]["attributes"]["status"] == "confirmed"
    assert events[0]["timestamp"] >= events[-1]["timestamp"]

    only_tags = viewer.get(f"{catalog.url}{ENTITY}/{guid}/audit", params={"auditAction": "CLASSIFICATION_ADD"}).json()
    assert [e["action"] for e in only_tags] == ["CLASSIFICATION_ADD"]
    first_page = viewer.get(f"{catalog.url}{ENTITY}/{guid}/audit", params={"count": 2}).json()
    next_page = viewer.get(
        f"{catalog.url}{ENTITY}/{guid}/audit", params={"count": 2, "startKey": first_page[-1]["eventKey"]}
    ).json()
    assert [e["action"] for e in first_page + next_page] == [e["action"] for e in events[:4]]
    oldest_first = viewer.get(f"{catalog.url}{ENTITY}/{guid}/audit", params={"sortOrder": "asc"}).json()
    assert oldest_first[0]["action"] == "ENTITY_CREATE"
    check_error(
        viewer.get(f"{catalog.url}{ENTITY}/00000000-0000-0000-0000-000000000000/audit"), 404, "ATLAS-404-00-005"
    )


def test_audit_feed_and_recorded_actions(catalog: CatalogServer) -> None:
    viewer, steward = catalog.http("viewer"), catalog.http("steward")
    start = viewer.get(f"{catalog.url}{AUDIT}", params={"since": 0, "limit": 10000}).json()["next"]
    name = f"feed-{token()}"
    guid = steward.post(f"{catalog.url}{ENTITY}", json={"entity": topic(name)}).json()["guidAssignments"]["-1"]
    recorded = steward.post(
        f"{catalog.url}{AUDIT}",
        json={"action": "REIDENTIFY", "entityGuid": guid, "details": {"domain": "channel", "fields": ["user_id"]}},
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["user"] == "test-steward" and recorded.json()["action"] == "REIDENTIFY"

    feed = viewer.get(f"{catalog.url}{AUDIT}", params={"since": start, "entityGuid": guid}).json()
    assert [e["action"] for e in feed["events"]] == ["ENTITY_CREATE", "REIDENTIFY"]
    assert feed["events"][1]["details"] == {"domain": "channel", "fields": ["user_id"]}
    assert feed["next"] == feed["events"][-1]["id"]
    later = viewer.get(f"{catalog.url}{AUDIT}", params={"since": feed["next"], "entityGuid": guid}).json()
    assert later == {"events": [], "next": feed["next"]}
    by_action = viewer.get(f"{catalog.url}{AUDIT}", params={"since": start, "action": "REIDENTIFY"}).json()["events"]
    assert any(e["entityGuid"] == guid for e in by_action)
    created = {"action": "TYPE_DEF_CREATE", "typeName": "deid_PII"}
    typedef_events = viewer.get(f"{catalog.url}{AUDIT}", params=created).json()
    assert typedef_events["events"][0]["user"] == "deid-bootstrap"

    check_error(
        catalog.http("viewer").post(f"{catalog.url}{AUDIT}", json={"action": "REIDENTIFY"}), 403, "ATLAS-403-00-001"
    )
    check_error(steward.post(f"{catalog.url}{AUDIT}", json={"action": "ENTITY_DELETE"}), 400, "ATLAS-400-00-01A")
    check_error(steward.post(f"{catalog.url}{AUDIT}", json={"action": "lower case"}), 400, "ATLAS-400-00-029", "action")


def test_atlas_client_paths_with_stray_slashes(catalog: CatalogServer) -> None:
    """Atlas's own Python client asks for …/typedefs/ and …/bulk//classification; both must route."""
    admin = catalog.http("admin")
    assert admin.get(f"{catalog.url}/api/atlas/v2/types/typedefs/").status_code == 200
    guid = admin.post(f"{catalog.url}{ENTITY}/", json={"entity": topic(f"slash-{token()}")}).json()["guidAssignments"][
        "-1"
    ]
    tagged = admin.post(
        f"{catalog.url}{ENTITY}/bulk//classification",
        json={"classification": {"typeName": "deid_PII"}, "entityGuids": [guid]},
    )
    assert tagged.status_code == 204, tagged.text
    check_error(admin.get(f"{catalog.url}/api/atlas/v2/nothing-here"), 404, "ATLAS-404-00-004")
    check_error(admin.patch(f"{catalog.url}{ENTITY}/guid/{guid}"), 405, "ATLAS-405-00-001")
