"""The catalog's ASGI app: `create_app(settings)` migrates the store, bootstraps typedefs and the
admin user, and mounts one router per resource.

The Schema Registry API is mounted at `/registry` (catalog/server/registry_binding.py). The steward UI
plugs in here too: its router at `/` and a session-cookie authenticator in `app.state.authenticators`.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from catalog.server import registry_binding
from catalog.server.auth import BasicAuthenticator
from catalog.server.bootstrap import ensure_bootstrap_types
from catalog.server.context import CatalogContext
from catalog.server.domains import DomainService
from catalog.server.errors import AtlasError, Code, SafeJSONResponse, atlas_response, install_error_handlers
from catalog.server.middleware import BodyLimit, SecurityHeaders, ShutdownAnswer
from catalog.server.policies import PolicyService
from catalog.server.routers import (
    admin,
    admin_ops,
    audit,
    classification,
    domains,
    entity,
    glossary,
    lineage,
    policies,
    search,
    transfer,
    types,
    users,
)
from catalog.server.typedefs import TypeCache, TypeDefService
from catalog.server.users import UserService
from catalog.store.db import Store, WriteConflict, safe_url
from catalog.store.migrate import upgrade
from catalog.ui import mount as mount_ui
from deid import __version__
from deid.domains import load_registry
from deid.errors import DeidError
from deid.settings import Settings

log = logging.getLogger(__name__)

# One router per resource, mounted in this order.
ROUTERS: tuple[APIRouter, ...] = (
    admin.router,
    types.router,
    entity.router,
    classification.router,
    audit.entity_router,
    audit.router,
    search.router,
    lineage.router,
    users.router,
    policies.router,
    domains.router,
    glossary.router,
    admin_ops.router,
    transfer.router,
)
# API paths that tolerate Atlas clients' doubled and trailing slashes ("…/bulk//classification", "…/typedefs/").
_NORMALIZED_PREFIXES = ("/api/", "/registry/")
_ROOT_PATHS = {"/registry"}


def initialize(settings: Settings, store: Store) -> CatalogContext:
    """Migrate the schema, create missing bootstrap typedefs and, at first start, the admin user and the
    seed domains."""
    try:
        upgrade(store)
    except OperationalError as exc:
        password = make_url(store.url).password or "\0"
        reason = str(exc.orig).strip().splitlines()[0].replace(str(password), "***") if exc.orig else ""
        raise DeidError(f"cannot open the catalog database {safe_url(store.url)} (DEID_CATALOG_DB): {reason}") from None
    cache = TypeCache()
    typedefs = TypeDefService(store, cache)
    touched = ensure_bootstrap_types(typedefs)
    if touched:
        log.info("catalog: created or upgraded %d bootstrap typedefs", len(touched))
    user_service = UserService(store)
    initial_admin = user_service.ensure_initial_admin(settings)
    domain_service = DomainService(settings, store, cache)
    domain_service.seed(load_registry(settings))  # first start only: deid/domains.yaml + the config file's
    policy_service = PolicyService(settings, store, cache, domain_service)
    return CatalogContext(settings, store, cache, typedefs, user_service, domain_service, policy_service, initial_admin)


class _NormalizePath:
    """ASGI middleware: collapse `//` and drop a trailing `/` on API paths before routing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            clean = re.sub(r"/{2,}", "/", path)
            if clean.startswith(_NORMALIZED_PREFIXES) and len(clean) > 1:
                clean = clean.rstrip("/")
                if clean in _ROOT_PATHS:  # a router's own root is declared with its slash
                    clean += "/"
            if clean != path:
                scope = {**scope, "path": clean, "raw_path": quote(clean).encode("ascii")}
        await self.app(scope, receive, send)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = {"basicAuth": {"type": "http", "scheme": "basic"}}
        schema["security"] = [{"basicAuth": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings, *, context: CatalogContext | None = None) -> FastAPI:
    """The catalog app; builds (and initialises) the store from `settings` unless given a context."""
    if context is None:
        context = initialize(settings, Store(settings.catalog_db_url))
    app = FastAPI(
        title="deid catalog",
        version=__version__,
        description="An Apache Atlas v2-compatible metadata catalog: typedefs, entities, classifications, "
        "search, lineage and audit. HTTP Basic authentication; roles viewer, steward, admin.",
        default_response_class=SafeJSONResponse,
        # FastAPI's /docs and /redoc pull their JS from a CDN; the spec itself is served at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.catalog = context
    app.state.authenticators = [BasicAuthenticator(context.users)]
    install_error_handlers(app)

    @app.exception_handler(WriteConflict)
    async def _conflict(request: Request, exc: WriteConflict) -> JSONResponse:
        return atlas_response(AtlasError(Code.INSTANCE_ALREADY_EXISTS, "concurrent writes kept conflicting; retry"))

    for router in ROUTERS:
        app.include_router(router)
    registry_binding.mount(app, context)  # the Confluent-compatible Schema Registry API at /registry
    mount_ui(app)  # the steward UI at / (pages, /static, the session-cookie authenticator)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(_NormalizePath)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=context.settings.catalog_max_request_mb * 2**20)
    app.add_middleware(ShutdownAnswer)
    return app
