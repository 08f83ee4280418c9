"""Browser sessions for the steward UI: a signed cookie, CSRF tokens bound to it, and the authenticator
that lets the catalog's API accept the cookie too (after HTTP Basic, which stays as it was).

The cookie is stateless (`user|issued|session id|password tag`, HMAC-SHA256 signed with a key kept in
the catalog database, so every replica and every restart accepts it). Each request re-reads the user:
a removed user or a changed password ends the session, a changed role applies at once. Logging out
clears the cookie and revokes its session id in this process.

CSRF: every form and every state-changing request made with the cookie must carry the session's token
(hidden field `csrf_token` or header `X-CSRF-Token`); the cookie is also SameSite=Strict. The login form
is protected with a double-submit nonce cookie, since there is no session yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.users import Principal
from catalog.store.db import Store
from catalog.store.repository import UserRepo
from catalog.store.tables import Meta

SESSION_COOKIE = "deid_session"
LOGIN_COOKIE = "deid_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY_NAME = "ui_session_key"
# API paths: a session-authenticated unsafe request there must carry the token in the header (UI form
# routes check the form field themselves, see catalog/ui/web.py).
API_PREFIXES = ("/api/", "/registry/")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _load_key(store: Store) -> bytes:
    """The signing key, created once per catalog database (so replicas and restarts share it)."""
    with store.read() as session:
        row = session.get(Meta, _KEY_NAME)
        if row is not None:
            return _unb64(row.value)

    def create(session: Session) -> str:
        existing = session.get(Meta, _KEY_NAME)
        if existing is not None:
            return existing.value
        value = _b64(secrets.token_bytes(32))
        session.add(Meta(key=_KEY_NAME, value=value))
        return value

    return _unb64(store.write(create))


@dataclass(frozen=True)
class UISession:
    principal: Principal
    session_id: str
    csrf_token: str


class SessionManager:
    """Issues, reads and revokes session cookies; derives CSRF tokens."""

    def __init__(self, store: Store, *, lifetime: int = SESSION_SECONDS) -> None:
        self.store = store
        self.lifetime = lifetime
        self._key = _load_key(store)
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _sign(self, purpose: str, message: str) -> str:
        return hmac.new(self._key, f"{purpose}|{message}".encode(), hashlib.sha256).hexdigest()[:40]

    @staticmethod
    def _password_tag(password_hash: str) -> str:
        return hashlib.sha256(password_hash.encode()).hexdigest()[:16]

    # -- sessions -----------------------------------------------------------------------------------

    def issue(self, name: str) -> str:
        """A cookie value for `name` (who just authenticated)."""
        with self.store.read() as session:
            row = UserRepo(session).get(name)
            if row is None:
                raise AtlasError(Code.UNAUTHENTICATED, "unknown user")
            tag = self._password_tag(row.password_hash)
        payload = _b64(f"{name}|{int(time.time())}|{secrets.token_hex(16)}|{tag}".encode())
        return f"{payload}.{self._sign('session', payload)}"

    def read(self, cookie: str | None) -> UISession | None:
        """The session a cookie stands for, or None (missing, forged, expired, revoked, user changed)."""
        if not cookie or "." not in cookie or len(cookie) > 1024:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        try:
            name, issued, session_id, tag = _unb64(payload).decode().split("|")
            issued_at = int(issued)
        except ValueError:
            return None
        if not 0 <= time.time() - issued_at <= self.lifetime or session_id in self._revoked:
            return None
        with self.store.read() as session:
            row = UserRepo(session).get(name)
            if row is None or not hmac.compare_digest(tag, self._password_tag(row.password_hash)):
                return None
            principal = Principal(row.name, row.role)  # type: ignore[arg-type]
        return UISession(principal, session_id, self._sign("csrf", session_id))

    def revoke(self, ui_session: UISession) -> None:
        now = time.time()
        with self._lock:
            self._revoked = {sid: until for sid, until in self._revoked.items() if until > now}
            self._revoked[ui_session.session_id] = now + self.lifetime

    @staticmethod
    def csrf_matches(ui_session: UISession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), ui_session.csrf_token)

    # -- the login form's CSRF (no session yet) ------------------------------------------------------

    def login_token(self, nonce: str) -> str:
        return self._sign("login", nonce)

    def login_token_matches(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce) and bool(token) and hmac.compare_digest(str(token), self.login_token(str(nonce)))

    # -- cookies ----------------------------------------------------------------------------------------

    def set_cookie(self, response: Response, request: Request, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


class SessionAuthenticator:
    """The catalog authenticator for the UI's cookie (appended after HTTP Basic in app.state.authenticators)."""

    def __init__(self, sessions: SessionManager) -> None:
        self.sessions = sessions

    def __call__(self, request: Request) -> Principal | None:
        ui_session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
        if ui_session is None:
            return None
        request.state.ui_session = ui_session
        unsafe_api = request.method not in SAFE_METHODS and request.url.path.startswith(API_PREFIXES)
        if unsafe_api and not self.sessions.csrf_matches(ui_session, request.headers.get(CSRF_HEADER)):
            raise AtlasError(
                Code.UNAUTHORIZED_ACCESS,
                f"{ui_session.principal.name} (session without the X-CSRF-Token header)",
                f"{request.method} {request.url.path}",
            )
        return ui_session.principal
