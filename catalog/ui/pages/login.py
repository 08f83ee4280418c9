"""Login and logout: username/password → a signed session cookie (see catalog/ui/sessions.py)."""

from __future__ import annotations

import logging
import re
import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from catalog.server.auth import client_address
from catalog.server.errors import AtlasError, Code
from catalog.server.users import Principal
from catalog.ui.sessions import CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE
from catalog.ui.web import UIError, checked_form, context, page_user, render, sessions

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a local path: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, next_path: str, error: str | None = None, status: int = 200) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    if not re.fullmatch(r"[0-9a-f]{32}", nonce):  # keep a valid one: two open login tabs both work
        nonce = secrets.token_hex(16)
    response = render(
        request,
        "login.html",
        None,
        status=status,
        login_token=sessions(request).login_token(nonce),
        next_path=_safe_next(next_path),
        error=error,
    )
    sessions(request).set_cookie(response, request, LOGIN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    manager = sessions(request)
    token = form.get(CSRF_FIELD)
    if not manager.login_token_matches(request.cookies.get(LOGIN_COOKIE), token if isinstance(token, str) else None):
        raise UIError(403, "Refused: the login form's CSRF token is missing or wrong. Reload the page and try again.")
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    next_path = _safe_next(str(form.get("next") or "/"))
    try:
        principal = (
            context(request).users.login(name, password, client_address(request), "ui") if name and password else None
        )
    except AtlasError as exc:
        if exc.code is not Code.TOO_MANY_REQUESTS:
            raise
        response = _login_page(request, next_path, f"Too many failed logins: {exc.message}.", status=429)
        response.headers.update(exc.headers or {})
        return response
    if principal is None:
        log.info("ui: failed login")
        return _login_page(request, next_path, "Wrong user name or password.", status=401)
    response = RedirectResponse(next_path, status_code=303)
    manager.set_cookie(response, request, SESSION_COOKIE, manager.issue(principal.name), max_age=manager.lifetime)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    log.info("ui: %s logged in", principal.name)
    return response


@router.post("/logout")
def logout(
    request: Request, form: object = Depends(checked_form), principal: Principal = Depends(page_user)
) -> Response:
    ui_session = getattr(request.state, "ui_session", None)
    if ui_session is not None:
        sessions(request).revoke(ui_session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
