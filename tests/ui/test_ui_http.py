"""The steward UI over HTTP against the real catalog server: login and session cookie, CSRF refusal,
viewer refusal, the Basic-auth API unchanged, and steward writes audited as the user."""

from __future__ import annotations

import requests

from tests.catalog_support import CatalogServer
from tests.ui.ui_support import csrf_token, login

POLICIES = "/api/deid/v1/policies"


def _versions(server: CatalogServer) -> int:
    with server.client("admin") as client:
        return len(client.policy_versions("channel"))


def test_login_sets_a_strict_http_only_session_cookie(catalog: CatalogServer) -> None:
    anonymous = requests.get(f"{catalog.url}/topics/channel", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=%2Ftopics%2Fchannel"

    user, password = catalog.credentials("viewer")
    wrong = requests.Session()
    page = wrong.get(f"{catalog.url}/login", timeout=30)
    refused = wrong.post(
        f"{catalog.url}/login",
        data={"csrf_token": csrf_token(page.text), "username": user, "password": "not-the-password"},
        timeout=30,
    )
    assert refused.status_code == 401 and "Wrong user name or password" in refused.text
    assert "deid_session" not in wrong.cookies

    session = requests.Session()
    page = session.get(f"{catalog.url}/login", timeout=30)
    answer = session.post(
        f"{catalog.url}/login",
        data={"csrf_token": csrf_token(page.text), "username": user, "password": password, "next": "//evil.example/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # never an open redirect
    cookie = next(h for h in answer.raw.headers.getlist("set-cookie") if h.startswith("deid_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    overview = session.get(f"{catalog.url}/", timeout=30)
    assert overview.status_code == 200 and "channel-raw-data" in overview.text and user in overview.text
    assert "script-src 'self'" in overview.headers["content-security-policy"]
    # The session cookie also reads the API (as the same user and role).
    assert session.get(f"{catalog.url}{POLICIES}", timeout=30).status_code == 200


def test_login_form_without_its_csrf_token_is_refused(ui_catalog: CatalogServer) -> None:
    user, password = ui_catalog.credentials("steward")
    answer = requests.post(f"{ui_catalog.url}/login", data={"username": user, "password": password}, timeout=30)
    assert answer.status_code == 403 and "CSRF token is missing or wrong" in answer.text


def test_forged_posts_without_the_csrf_token_are_refused(
    ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    user, password = ui_catalog.credentials("steward")
    session = login(ui_catalog.url, user, password)
    before = _versions(ui_catalog)
    forged = session.post(f"{ui_catalog.url}/policies/channel/publish", data={}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403 and "CSRF token is missing or wrong" in forged.text
    wrong = session.post(
        f"{ui_catalog.url}/topics/channel/fields/tv_show/decide",
        data={"csrf_token": "0" * 40, "action": "reject"},
        allow_redirects=False,
        timeout=30,
    )
    assert wrong.status_code == 403
    # The API with the session cookie: a write needs the X-CSRF-Token header too.
    rule = {"rule": {"treatment": "keep"}}
    api = f"{ui_catalog.url}{POLICIES}/channel/draft/rules/tv_show"
    refused = session.put(api, json=rule, timeout=30)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["errorMessage"]
    token = csrf_token(session.get(f"{ui_catalog.url}/", timeout=30).text)
    assert session.put(api, json=rule, headers={"X-CSRF-Token": token}, timeout=30).status_code == 200
    assert _versions(ui_catalog) == before


def test_viewer_has_no_write_controls_and_is_refused(
    ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    user, password = ui_catalog.credentials("viewer")
    session = login(ui_catalog.url, user, password)
    page = session.get(f"{ui_catalog.url}/topics/channel", timeout=30)
    assert page.status_code == 200 and "tv_show" in page.text
    assert "/decide" not in page.text and "confirm-suggestions" not in page.text and "Read-only" in page.text
    policy = session.get(f"{ui_catalog.url}/policies/channel", timeout=30)
    assert policy.status_code == 200 and 'id="publish"' not in policy.text
    token = csrf_token(page.text)  # the logout form's: a valid token does not make a viewer a steward
    before = _versions(ui_catalog)
    for path, data in (
        ("/policies/channel/publish", {}),
        ("/topics/channel/fields/user_id/decide", {"action": "confirm"}),
        ("/topics/channel/fields/user_id/treatment", {"treatment": "keep"}),
        ("/topics/channel/confirm-suggestions", {"min_confidence": "0"}),
    ):
        refused = session.post(f"{ui_catalog.url}{path}", data={**data, "csrf_token": token}, timeout=30)
        assert refused.status_code == 403 and "only stewards" in refused.text, path
    api = session.post(f"{ui_catalog.url}{POLICIES}/channel/publish", headers={"X-CSRF-Token": token}, timeout=30)
    assert api.status_code == 403
    assert _versions(ui_catalog) == before


def test_basic_auth_api_is_unchanged_and_needs_no_csrf_token(ui_catalog: CatalogServer) -> None:
    steward = ui_catalog.http("steward")
    rule = {"rule": {"treatment": "keep"}}
    answer = steward.put(f"{ui_catalog.url}{POLICIES}/channel/draft/rules/tv_show_type", json=rule, timeout=30)
    assert answer.status_code == 200, answer.text
    assert requests.get(f"{ui_catalog.url}{POLICIES}", timeout=30).status_code == 401


def test_logout_ends_the_session(ui_catalog: CatalogServer) -> None:
    user, password = ui_catalog.credentials("viewer")
    session = login(ui_catalog.url, user, password)
    cookie = session.cookies["deid_session"]
    token = csrf_token(session.get(f"{ui_catalog.url}/", timeout=30).text)
    out = session.post(f"{ui_catalog.url}/logout", data={"csrf_token": token}, allow_redirects=False, timeout=30)
    assert out.status_code == 303 and "deid_session" not in session.cookies
    replay = requests.get(f"{ui_catalog.url}/", cookies={"deid_session": cookie}, allow_redirects=False, timeout=30)
    assert replay.status_code == 303  # the old cookie is revoked, back to the login form
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    forged = requests.get(f"{ui_catalog.url}/", cookies={"deid_session": tampered}, allow_redirects=False, timeout=30)
    assert forged.status_code == 303


def test_steward_decisions_are_validated_and_audited(
    ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    user, password = ui_catalog.credentials("steward")
    session = login(ui_catalog.url, user, password)
    token = csrf_token(session.get(f"{ui_catalog.url}/topics/channel", timeout=30).text)
    field = f"{ui_catalog.url}/topics/channel/fields/tv_show_type"

    def post(route: str, **data: str) -> requests.Response:
        return session.post(f"{field}/{route}", data={"csrf_token": token, **data}, timeout=30)

    bad = post("treatment", treatment="mask", **{"mask.length": "4"})
    assert bad.status_code == 200 and "Not saved" in bad.text and "length" in bad.text
    no_format = post("treatment", treatment="date_shift", **{"date_shift.max_days": "5"})
    assert "Not saved" in no_format.text and "format" in no_format.text  # tv_show_type is no date
    assert "Not saved" in post("treatment", treatment="no_such_treatment").text
    good = post("treatment", treatment="redact", **{"redact.value": "GENRE", "redact.flag": "on"})
    assert "tv_show_type: treatment set in the draft policy" in good.text
    confirmed = post("decide", action="confirm", note="genres are not personal")
    assert "tv_show_type: NON_PII confirmed" in confirmed.text
    with ui_catalog.client("admin") as client:
        draft = client.get_policy_draft("channel")
        expected = {"treatment": "redact", "params": {"value": "GENRE", "flag": True}}
        assert draft["policy"]["rules"]["tv_show_type"] == expected
        assert "tv_show_type" in draft["steward_paths"]
        tag = client.get_classification(channel_after_inference["tv_show_type"], "NON_PII")["attributes"]
        assert tag["status"] == "confirmed" and tag["note"] == "genres are not personal"
        events = client.get_entity_audit(channel_after_inference["tv_show_type"])
        assert any(e["user"] == user and e["action"] == "CLASSIFICATION_UPDATE" for e in events)
    history = session.get(f"{field}/history", timeout=30)
    assert history.status_code == 200
    assert user in history.text and "redact (flag=True, value=GENRE)" in history.text
    assert "NON_PII: confirmed, detected, 0.97" in history.text


def test_bulk_confirm_takes_only_suggestions_at_or_above_the_threshold(
    ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    user, password = ui_catalog.credentials("steward")
    session = login(ui_catalog.url, user, password)
    token = csrf_token(session.get(f"{ui_catalog.url}/topics/channel", timeout=30).text)
    url = f"{ui_catalog.url}/topics/channel/confirm-suggestions"
    assert session.post(url, data={"csrf_token": token, "min_confidence": "2"}, timeout=30).status_code == 400
    answer = session.post(url, data={"csrf_token": token, "min_confidence": "0.95"}, timeout=30)
    assert answer.status_code == 200 and "suggestion(s) at confidence ≥ 0.95" in answer.text
    with ui_catalog.client("viewer") as client:
        status = {
            path: {c["typeName"]: c["attributes"]["status"] for c in client.get_classifications(guid)}
            for path, guid in channel_after_inference.items()
        }
    assert status["user_id"]["USER_ID"] == "confirmed"  # 0.97
    assert status["tv_show"]["NON_PII"] == "suggested"  # 0.88 stays for a steward to look at
    assert status["date"]["DATE_TIME"] == "suggested"  # 0.93


def test_changing_the_entity_sets_its_default_treatment_and_back(
    ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    user, password = ui_catalog.credentials("steward")
    session = login(ui_catalog.url, user, password)
    token = csrf_token(session.get(f"{ui_catalog.url}/topics/channel", timeout=30).text)
    url = f"{ui_catalog.url}/topics/channel/fields/tv_show_type/decide"
    guid = channel_after_inference["tv_show_type"]

    def tags(client) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
        return {
            c["typeName"]: (c["attributes"]["status"], c["attributes"]["source"])
            for c in client.get_classifications(guid)
        }

    unknown = session.post(url, data={"csrf_token": token, "action": "retag", "entity": "NO_SUCH_ENTITY"}, timeout=30)
    assert "Not saved" in unknown.text and "NO_SUCH_ENTITY" in unknown.text
    retagged = session.post(url, data={"csrf_token": token, "action": "retag", "entity": "LOCATION"}, timeout=30)
    assert "tv_show_type: tagged LOCATION" in retagged.text
    with ui_catalog.client("viewer") as client:
        assert tags(client)["LOCATION"] == ("confirmed", "steward")
        assert tags(client)["NON_PII"][0] == "rejected"
        assert client.get_policy_draft("channel")["policy"]["rules"]["tv_show_type"]["treatment"] == "mask"
    back = session.post(url, data={"csrf_token": token, "action": "retag", "entity": "NON_PII"}, timeout=30)
    assert "tv_show_type: tagged NON_PII; kept as is" in back.text
    with ui_catalog.client("viewer") as client:
        assert tags(client)["LOCATION"][0] == "rejected" and tags(client)["NON_PII"] == ("confirmed", "steward")
        assert client.get_policy_draft("channel")["policy"]["rules"]["tv_show_type"] == {"treatment": "keep"}
