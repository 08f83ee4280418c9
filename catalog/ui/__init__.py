"""The steward UI, served by the catalog at `/`: server-rendered pages (Jinja2), a little vanilla JS and
CSS served from this package (no CDN, no build step), a session cookie for the browser and CSRF tokens
on every form. Pages: topics overview, schema review per topic, field history, policy (draft diff,
publish, versions), lineage. Viewers see every page without write controls; the server refuses them.

`mount(app)` plugs it into the catalog app (catalog/server/app.py:create_app).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from catalog.ui.pages import domains, history, lineage, login, overview, policy, schema
from catalog.ui.sessions import SessionAuthenticator, SessionManager
from catalog.ui.web import PACKAGE, LoginRequired, UIError, login_required_handler, ui_error_handler

PAGES = (login.router, overview.router, schema.router, history.router, policy.router, lineage.router, domains.router)


def mount(app: FastAPI) -> None:
    """Pages at `/`, assets at `/static`, and the session cookie accepted by the whole catalog API."""
    manager = SessionManager(app.state.catalog.store)
    app.state.ui_sessions = manager
    app.state.authenticators.append(SessionAuthenticator(manager))
    app.add_exception_handler(UIError, ui_error_handler)
    app.add_exception_handler(LoginRequired, login_required_handler)
    for router in PAGES:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
