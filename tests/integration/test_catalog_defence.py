"""The catalog defends itself: failed logins (Basic and the UI form) back off and lock out with 429 and
Retry-After, audited; security headers on every answer; oversized bodies get a clear 413; SIGTERM
stops a server busy with a large bulk write within its grace period."""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from catalog.server.login_guard import Limit, LoginGuard, LoginPolicy
from deid.stack.process import free_port
from tests.benchmarks.bench_catalog import bulk_payload
from tests.catalog_support import ROLE_PASSWORD, CatalogServer, start_catalog
from tests.integration.test_catalog_cli import _env, serving

TIGHT = LoginPolicy(
    window_seconds=60,
    per_user=Limit(free=1, lock_after=4, lock_seconds=3, max_backoff=1),
    per_address=Limit(free=1000, lock_after=10_000, lock_seconds=3),
)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[CatalogServer]:
    """A fresh catalog whose login guard locks after 4 failures for 3 s (the defaults: 10 for 300 s)."""
    server = start_catalog(tmp_path / "catalog", catalog_max_request_mb=1)
    server.app_context().users.guard = LoginGuard(TIGHT)
    try:
        yield server
    finally:
        server.stop()


def _audit(server: CatalogServer, action: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{server.url}/api/deid/v1/audit", params={"action": action, "limit": 1000},
                          auth=server.credentials("admin"), timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def _whoami(server: CatalogServer, user: str, password: str) -> requests.Response:
    return requests.get(f"{server.url}/api/atlas/admin/version", auth=(user, password), timeout=30)


def test_basic_auth_failures_back_off_then_lock_out_with_retry_after(guarded: CatalogServer) -> None:
    user, password = guarded.credentials("viewer")
    assert _whoami(guarded, user, "wrong-1").status_code == 401
    assert _whoami(guarded, user, "wrong-2").status_code == 401
    backoff = _whoami(guarded, user, "wrong-3")  # the third try comes too soon after the second failure
    assert backoff.status_code == 429, backoff.text
    assert backoff.json()["errorCode"] == "DEID-429-00-001" and int(backoff.headers["Retry-After"]) >= 1
    # Even the right password waits: a guesser learns nothing while blocked.
    assert _whoami(guarded, user, password).status_code == 429
    time.sleep(1.1)
    assert _whoami(guarded, user, "wrong-3").status_code == 401
    time.sleep(1.1)
    assert _whoami(guarded, user, "wrong-4").status_code == 401  # fourth failure: locked
    locked = _whoami(guarded, user, password)
    assert locked.status_code == 429 and "locked" in locked.json()["errorMessage"]
    assert 1 <= int(locked.headers["Retry-After"]) <= 3
    other = guarded.credentials("steward")  # other users are not affected
    assert _whoami(guarded, *other).status_code == 200
    time.sleep(int(locked.headers["Retry-After"]) + 0.2)
    assert _whoami(guarded, user, password).status_code == 200  # the lock expires; success clears the count
    assert _whoami(guarded, user, "wrong-again").status_code == 401

    failed, locks = _audit(guarded, "LOGIN_FAILED"), _audit(guarded, "LOGIN_LOCKED")
    assert len(failed) == 5 and {e["details"]["channel"] for e in failed} == {"basic"}
    assert failed[0]["details"]["name"] == user and failed[0]["details"]["client"] == "127.0.0.1"
    assert len(locks) == 1 and locks[0]["details"]["name"] == user
    assert all(password not in str(e) and ROLE_PASSWORD not in str(e) for e in failed + locks)


def test_unknown_user_names_are_not_recorded(guarded: CatalogServer) -> None:
    typed = f"my-secret-{uuid.uuid4().hex[:6]}"  # a password typed into the name field
    assert _whoami(guarded, typed, "whatever").status_code == 401
    failed = _audit(guarded, "LOGIN_FAILED")
    assert failed and failed[-1]["details"]["name"] == "(unknown user)" and failed[-1]["user"] == "-"
    assert typed not in str(failed)


def _ui_login(session: requests.Session, url: str, user: str, password: str) -> requests.Response:
    form = session.get(f"{url}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    return session.post(
        f"{url}/login",
        data={"username": user, "password": password, "csrf_token": token.group(1), "next": "/"},
        allow_redirects=False,
        timeout=30,
    )


def test_ui_login_failures_are_throttled_too(guarded: CatalogServer) -> None:
    user, password = guarded.credentials("viewer")
    browser = requests.Session()
    assert _ui_login(browser, guarded.url, user, "nope-1").status_code == 401
    assert _ui_login(browser, guarded.url, user, "nope-2").status_code == 401
    throttled = _ui_login(browser, guarded.url, user, password)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert "Too many failed logins" in throttled.text
    time.sleep(int(throttled.headers["Retry-After"]) + 0.2)
    assert _ui_login(browser, guarded.url, user, password).status_code == 303


def test_security_headers_on_api_ui_and_errors(guarded: CatalogServer) -> None:
    http = guarded.http("viewer")
    for answer in (
        http.get(f"{guarded.url}/api/atlas/v2/types/typedefs/headers", timeout=30),
        http.get(f"{guarded.url}/api/atlas/v2/entity/guid/{uuid.uuid4()}", timeout=30),  # a 404
        requests.get(f"{guarded.url}/login", timeout=30),
        http.get(f"{guarded.url}/registry/subjects", timeout=30),
    ):
        assert answer.headers["X-Frame-Options"] == "DENY", answer.url
        assert answer.headers["Cache-Control"] == "no-store", answer.url
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_oversized_bodies_get_413_naming_the_limit(guarded: CatalogServer) -> None:
    http = guarded.http("steward")
    big = bulk_payload(12_000, "big")  # well over the 1 MiB this server allows
    refused = http.post(f"{guarded.url}/api/atlas/v2/entity/bulk", json=big, timeout=60)
    assert refused.status_code == 413, refused.text[:300]
    assert refused.json()["errorCode"] == "ATLAS-413-00-001"
    assert "limit of 1048576 bytes" in refused.json()["errorMessage"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit applies as the body streams in
        yield b'{"entities": ['
        for _ in range(3000):
            yield b'{"typeName": "avro_field", "attributes": {"qualifiedName": "' + b"x" * 400 + b'"}},'
        yield b"{}]}"

    streamed = http.post(f"{guarded.url}/api/atlas/v2/entity/bulk", data=chunked(),
                         headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert streamed.status_code == 413 and "exceeds the limit" in streamed.json()["errorMessage"]
    registry = http.post(f"{guarded.url}/registry/subjects/x-value/versions", data=b"{" + b" " * (2 << 20) + b"}",
                         headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert registry.status_code == 413 and registry.json()["error_code"] == 413
    small = http.post(f"{guarded.url}/api/atlas/v2/entity/bulk", json=bulk_payload(20, "small"), timeout=60)
    assert small.status_code == 200, small.text


def test_sigterm_stops_a_server_busy_with_a_large_bulk_write(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port(), DEID_ADMIN_PASSWORD="sigterm-admin-1")
    payload = bulk_payload(60_000, "sigterm")
    outcome: dict[str, Any] = {}

    with serving(env) as (url, process):

        def post() -> None:
            try:
                answer = requests.post(f"{url}/api/atlas/v2/entity/bulk", json=payload,
                                       auth=("admin", "sigterm-admin-1"), timeout=300)  # fmt: skip
                outcome["status"] = answer.status_code
            except requests.ConnectionError as exc:
                outcome["error"] = type(exc).__name__

        writer = threading.Thread(target=post, daemon=True)
        writer.start()
        time.sleep(2.0)  # the server is parsing or writing the 60,000 entities
        assert writer.is_alive(), f"the bulk write finished too soon to test shutdown: {outcome}"
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        stopped_after = time.monotonic() - stopping
        writer.join(timeout=60)
    # `serving` asserted exit code 0. The request was cut off (503, or the connection closed), not waited for.
    assert outcome.get("status", 503) == 503, outcome
    assert stopped_after < 30, stopped_after
    assert "catalog: stopped" in process.stderr_text  # type: ignore[attr-defined]


def test_registry_errors_are_confluent_shaped_and_global_config_needs_admin(guarded: CatalogServer) -> None:
    steward, admin = guarded.http("steward"), guarded.http("admin")
    registry = f"{guarded.url}/registry"
    for method, path, status in (("GET", "/nope", 404), ("GET", "/subjects/x/versions/1/nope", 404),
                                 ("DELETE", "/schemas/types", 405)):  # fmt: skip
        answer = steward.request(method, f"{registry}{path}", timeout=30)
        assert answer.status_code == status, answer.text
        assert answer.json() == {"error_code": status, "message": answer.json()["message"]}
        assert answer.json()["message"].startswith(f"HTTP {status}")
    missing = steward.get(f"{registry}/subjects/no-such-subject/versions", timeout=30)
    assert missing.status_code == 404 and missing.json()["error_code"] == 40401

    refused = steward.put(f"{registry}/config", json={"compatibility": "NONE"}, timeout=30)
    assert refused.status_code == 403 and refused.json()["error_code"] == 403
    assert "global compatibility" in refused.json()["message"]
    assert steward.delete(f"{registry}/config", timeout=30).status_code == 403
    assert steward.get(f"{registry}/config", timeout=30).json()["compatibilityLevel"] == "BACKWARD"
    subject_level = steward.put(f"{registry}/config/orders-value", json={"compatibility": "FULL"}, timeout=30)
    assert subject_level.status_code == 200, subject_level.text  # a steward still sets a subject's level
    changed = admin.put(f"{registry}/config", json={"compatibility": "FORWARD"}, timeout=30)
    assert changed.status_code == 200 and changed.json() == {"compatibility": "FORWARD"}
