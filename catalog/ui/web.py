"""What every UI page shares: templates, who is logged in (or a redirect to the login form), the CSRF
check of forms, the steward check of writes, flash messages, and HTML error pages."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from catalog.server.auth import current_principal
from catalog.server.context import CatalogContext
from catalog.server.errors import AtlasError
from catalog.server.users import Principal
from catalog.ui.sessions import CSRF_FIELD, CSRF_HEADER, SessionManager, UISession
from deid import __version__

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).parent
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
templates.env.globals["version"] = __version__
templates.env.filters["when"] = lambda ms: (
    datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S") if ms else "?"
)
FLASH_COOKIE = "deid_flash"
# Pages are ours only: no inline script, no third-party anything, never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class UIError(Exception):
    """A page-level failure rendered as an HTML page with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sessions(request: Request) -> SessionManager:
    return request.app.state.ui_sessions


def context(request: Request) -> CatalogContext:
    return request.app.state.catalog


def page_user(request: Request) -> Principal:
    """The logged-in user of a page; anyone else is sent to the login form."""
    try:
        return current_principal(request)
    except AtlasError:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target) from None


async def checked_form(request: Request, principal: Principal = Depends(page_user)) -> FormData:
    """The posted form, after the CSRF check: a login session and its token in the form (or header)."""
    form = await request.form()
    ui_session: UISession | None = getattr(request.state, "ui_session", None)
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if ui_session is None or not sessions(request).csrf_matches(ui_session, token if isinstance(token, str) else None):
        log.warning(
            "ui: refused a %s %s without a valid CSRF token (user %s)", request.method, request.url.path, principal.name
        )
        raise UIError(403, "Refused: the form's CSRF token is missing or wrong. Reload the page and try again.")
    return form


def steward(request: Request, principal: Principal = Depends(page_user)) -> Principal:
    """The caller of a write: a steward or admin (viewers see the pages but may not change anything)."""
    if not principal.may("steward"):
        raise UIError(403, f"Refused: {principal.name} has the {principal.role} role; only stewards may change this.")
    return principal


def flash(response: Response, request: Request, message: str) -> None:
    sessions(request).set_cookie(response, request, FLASH_COOKIE, quote(message[:400]), max_age=60)


def back(request: Request, path: str, message: str) -> RedirectResponse:
    """Post/redirect/get: back to `path` with a one-time message."""
    response = RedirectResponse(path, status_code=303)
    flash(response, request, message)
    return response


def render(request: Request, template: str, principal: Principal | None, status: int = 200, **values: Any) -> Response:
    ui_session: UISession | None = getattr(request.state, "ui_session", None)
    message = request.cookies.get(FLASH_COOKIE)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": principal,
            "can_write": principal is not None and principal.may("steward"),
            "csrf_token": ui_session.csrf_token if ui_session else "",
            "flash": unquote(message) if message else None,
            **values,
        },
        status_code=status,
    )
    if message:
        response.delete_cookie(FLASH_COOKIE, path="/")
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status: int, message: str) -> Response:
    principal = None
    with contextlib.suppress(AtlasError):
        principal = current_principal(request)
    return render(request, "error.html", principal, status=status, message=message)


async def ui_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UIError)
    return error_page(request, exc.status, exc.message)


async def login_required_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path, safe='')}", status_code=303)
