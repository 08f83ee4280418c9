"""The Confluent Schema Registry REST API as a FastAPI router (mounted under `/registry` by the catalog).

Paths, bodies, status codes and error bodies (`{"error_code": …, "message": …}`) are Confluent's, so
`confluent_kafka.schema_registry.SchemaRegistryClient` and its serializers work against it. Request
bodies are accepted as `application/vnd.schemaregistry.v1+json`, `application/vnd.schemaregistry+json`,
`application/json` (or any type, as Confluent does); responses are `application/vnd.schemaregistry.v1+json`.

Binding (see `mount_registry`): the store (`get_registry_store`), access control (`registry_auth`, which
learns what a request needs from `required_access`) and the hook called after every successful
registration (`get_schema_registered_hook`). Errors inside the router, including `HTTPException`s raised
by the auth dependency, are answered in Confluent's shape whatever the host app's exception handlers do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from catalog.registry import errors
from catalog.registry.errors import RegistryError
from catalog.registry.service import SUPPORTED_TYPES, SchemaRegistry, parse_schema_request
from catalog.registry.store import RegistryStore, SubjectVersion

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
log = logging.getLogger(__name__)

# (subject, version, schema_id, schema text): called after each successful registration, new or not.
SchemaRegisteredHook = Callable[[str, int, int, str], None]


class Access(StrEnum):
    READ = "read"  # catalog role viewer
    WRITE = "write"  # catalog role steward
    ADMIN = "admin"  # catalog role admin: the global compatibility level governs every subject


class RegistryResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _error_response(status: int, error_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return RegistryResponse({"error_code": error_code, "message": message}, status_code=status, headers=headers)


class _RegistryRoute(APIRoute):
    """Answers every failure of a registry route in Confluent's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RegistryError as exc:
                return _error_response(exc.status, exc.error_code, exc.message)
            except HTTPException as exc:  # e.g. 401/403 from the bound auth dependency
                return _error_response(exc.status_code, exc.status_code, str(exc.detail), exc.headers)
            except RequestValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                return _error_response(422, 422, f"Unprocessable entity: {problems}")

        return handle


# --- binding points ---------------------------------------------------------------------------------


def get_registry_store(request: Request) -> RegistryStore:
    """The store; `mount_registry` binds it (the catalog passes a `SqlRegistryStore` on its engine)."""
    store = getattr(request.app.state, "registry_store", None)
    if store is None:
        raise errors.store_error("the schema registry store is not configured")
    return store


def required_access(request: Request) -> Access:
    """What the current request needs: ADMIN for the global config, WRITE for register, delete and subject
    config changes; READ otherwise."""
    endpoint = request.scope.get("endpoint")
    if endpoint in _ADMIN_ENDPOINTS:
        return Access.ADMIN
    return Access.WRITE if endpoint in _WRITE_ENDPOINTS else Access.READ


def registry_auth(request: Request) -> None:
    """Access control; fails closed until bound (`mount_registry(auth=…)`) to the host's authentication."""
    raise RegistryError(403, 40301, "schema registry access control is not configured")


def _no_hook(subject: str, version: int, schema_id: int, schema: str) -> None:
    return None


def get_schema_registered_hook() -> SchemaRegisteredHook:
    """The hook run after each registration; `mount_registry(on_schema_registered=…)` binds it."""
    return _no_hook


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError) as exc:
        raise RegistryError(400, 400, f"Unparseable request body: {type(exc).__name__}") from None


def _service(store: Annotated[RegistryStore, Depends(get_registry_store)]) -> SchemaRegistry:
    return SchemaRegistry(store)


Service = Annotated[SchemaRegistry, Depends(_service)]
Body = Annotated[Any, Depends(_json_body)]

router = APIRouter(
    route_class=_RegistryRoute,
    default_response_class=RegistryResponse,
    dependencies=[Depends(registry_auth)],
    tags=["schema registry"],
)


def _request_body(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body read by `_json_body` (FastAPI cannot see it)."""
    content = {media: {"schema": schema} for media in (MEDIA_TYPE, "application/json")}
    return {"requestBody": {"required": True, "content": content}}


_SCHEMA_BODY = _request_body(
    {
        "type": "object",
        "required": ["schema"],
        "properties": {
            "schema": {"type": "string"},
            "schemaType": {"type": "string", "enum": list(SUPPORTED_TYPES)},
            "references": {"type": "array", "maxItems": 0},
        },
    }
)
_CONFIG_BODY = _request_body(
    {"type": "object", "required": ["compatibility"], "properties": {"compatibility": {"type": "string"}}}
)


def _page(items: list[Any], offset: int, limit: int) -> list[Any]:
    items = items[max(offset, 0) :]
    return items if limit < 0 else items[:limit]


def _version_body(found: SubjectVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": found.subject,
        "version": found.version,
        "id": found.schema_id,
        "schema": found.schema,
    }
    if found.schema_type != "AVRO":  # Confluent omits the type for Avro
        body["schemaType"] = found.schema_type
    return body


# --- routes -----------------------------------------------------------------------------------------


@router.get("/")
def root() -> dict[str, Any]:
    return {}


@router.get("/schemas/types")
def schema_types() -> list[str]:
    return list(SUPPORTED_TYPES)


@router.get("/subjects")
def list_subjects(
    registry: Service,
    prefix: Annotated[str, Query(alias="subjectPrefix")] = "",
    deleted: bool = False,
    deleted_only_camel: Annotated[bool, Query(alias="deletedOnly")] = False,
    deleted_only: bool = False,
    offset: int = 0,
    limit: int = -1,
) -> list[str]:
    names = registry.store.subjects(deleted=deleted, deleted_only=deleted_only_camel or deleted_only, prefix=prefix)
    return _page(names, offset, limit)


@router.get("/subjects/{subject}/versions")
def list_versions(
    subject: str,
    registry: Service,
    deleted: bool = False,
    deleted_only_camel: Annotated[bool, Query(alias="deletedOnly")] = False,
    deleted_only: bool = False,
    offset: int = 0,
    limit: int = -1,
) -> list[int]:
    return _page(
        registry.versions(subject, deleted=deleted, deleted_only=deleted_only_camel or deleted_only), offset, limit
    )


@router.get("/subjects/{subject}/versions/{version}")
def get_version(subject: str, version: str, registry: Service, deleted: bool = False) -> dict[str, Any]:
    return _version_body(registry.version(subject, version, deleted=deleted))


@router.get("/subjects/{subject}/versions/{version}/schema")
def get_version_schema(subject: str, version: str, registry: Service, deleted: bool = False) -> Response:
    return Response(registry.version(subject, version, deleted=deleted).schema, media_type=MEDIA_TYPE)


@router.get("/subjects/{subject}/versions/{version}/referencedby")
def referenced_by(subject: str, version: str, registry: Service) -> list[int]:
    registry.version(subject, version, deleted=True)
    return []  # references are not supported, so nothing refers to a version


@router.post("/subjects/{subject}/versions", openapi_extra=_SCHEMA_BODY)
def register(
    subject: str,
    registry: Service,
    body: Body,
    hook: Annotated[SchemaRegisteredHook, Depends(get_schema_registered_hook)],
    normalize: bool = False,
) -> dict[str, Any]:
    if not subject.strip():
        raise errors.invalid_schema("the subject name is empty")
    registered = registry.register(subject, parse_schema_request(body))
    if registered.created:
        log.info("registered schema id %s as %s version %s", registered.schema_id, subject, registered.version)
    try:
        hook(subject, registered.version, registered.schema_id, registered.schema)
    except Exception:  # the schema is registered; a retry re-runs the (idempotent) hook
        log.exception("on_schema_registered failed for %s version %s", subject, registered.version)
        raise errors.store_error("the schema was registered but the catalog could not record it; retry") from None
    return {"id": registered.schema_id}


@router.post("/subjects/{subject}", openapi_extra=_SCHEMA_BODY)
def lookup(subject: str, registry: Service, body: Body, normalize: bool = False, deleted: bool = False) -> dict:
    return _version_body(registry.lookup(subject, parse_schema_request(body), deleted=deleted))


@router.delete("/subjects/{subject}")
def delete_subject(subject: str, registry: Service, permanent: bool = False) -> list[int]:
    return registry.delete_subject(subject, permanent=permanent)


@router.delete("/subjects/{subject}/versions/{version}")
def delete_version(subject: str, version: str, registry: Service, permanent: bool = False) -> int:
    return registry.delete_version(subject, version, permanent=permanent)


@router.get("/schemas/ids/{schema_id}")
def get_schema(schema_id: str, registry: Service, subject: str | None = None) -> dict[str, Any]:
    found = registry.schema(schema_id)
    body: dict[str, Any] = {"schema": found.schema}
    if found.schema_type != "AVRO":
        body["schemaType"] = found.schema_type
    return body


@router.get("/schemas/ids/{schema_id}/schema")
def get_schema_text(schema_id: str, registry: Service, subject: str | None = None) -> Response:
    return Response(registry.schema(schema_id).schema, media_type=MEDIA_TYPE)


@router.get("/schemas/ids/{schema_id}/versions")
def get_schema_versions(
    schema_id: str,
    registry: Service,
    subject: str | None = None,
    deleted: bool = False,
    offset: int = 0,
    limit: int = -1,
) -> list[dict[str, Any]]:
    usages = [u for u in registry.schema_usages(schema_id, deleted=deleted) if subject is None or u.subject == subject]
    return _page([{"subject": u.subject, "version": u.version} for u in usages], offset, limit)


@router.get("/schemas/ids/{schema_id}/subjects")
def get_schema_subjects(
    schema_id: str,
    registry: Service,
    subject: str | None = None,
    deleted: bool = False,
    offset: int = 0,
    limit: int = -1,
) -> list[str]:
    names = sorted({u.subject for u in registry.schema_usages(schema_id, deleted=deleted)})
    return _page([n for n in names if subject is None or n == subject], offset, limit)


@router.get("/config")
def get_global_config(registry: Service) -> dict[str, Any]:
    return {"compatibilityLevel": registry.global_level().value}


@router.put("/config", openapi_extra=_CONFIG_BODY)
def put_global_config(registry: Service, body: Body) -> dict[str, Any]:
    return {"compatibility": registry.set_level(None, body).value}


@router.delete("/config")
def delete_global_config(registry: Service) -> dict[str, Any]:
    return {"compatibilityLevel": registry.delete_level(None).value}


@router.get("/config/{subject}")
def get_subject_config(
    subject: str, registry: Service, default_to_global: Annotated[bool, Query(alias="defaultToGlobal")] = False
) -> dict[str, Any]:
    return {"compatibilityLevel": registry.subject_level(subject, default_to_global=default_to_global).value}


@router.put("/config/{subject}", openapi_extra=_CONFIG_BODY)
def put_subject_config(subject: str, registry: Service, body: Body) -> dict[str, Any]:
    return {"compatibility": registry.set_level(subject, body).value}


@router.delete("/config/{subject}")
def delete_subject_config(subject: str, registry: Service) -> dict[str, Any]:
    return {"compatibilityLevel": registry.delete_level(subject).value}


def _compatibility_answer(registry: SchemaRegistry, subject: str, version: str | None, body: Any, verbose: bool):
    try:
        schema = parse_schema_request(body)
    except RegistryError as exc:
        if exc.error_code != 42201 or not verbose:
            raise
        return {"is_compatible": False, "messages": [exc.message]}  # Confluent answers a bad schema verbosely
    messages = registry.test_compatibility(subject, version, schema)
    answer: dict[str, Any] = {"is_compatible": not messages}
    if verbose:
        answer["messages"] = messages
    return answer


@router.post("/compatibility/subjects/{subject}/versions/{version}", openapi_extra=_SCHEMA_BODY)
def test_compatibility(
    subject: str, version: str, registry: Service, body: Body, verbose: bool = False, normalize: bool = False
) -> dict[str, Any]:
    return _compatibility_answer(registry, subject, version, body, verbose)


@router.post("/compatibility/subjects/{subject}/versions", openapi_extra=_SCHEMA_BODY)
def test_compatibility_all(
    subject: str, registry: Service, body: Body, verbose: bool = False, normalize: bool = False
) -> dict[str, Any]:
    return _compatibility_answer(registry, subject, None, body, verbose)


_ADMIN_ENDPOINTS = frozenset({put_global_config, delete_global_config})
_WRITE_ENDPOINTS = frozenset(
    {
        register,
        delete_subject,
        delete_version,
        put_global_config,
        delete_global_config,
        put_subject_config,
        delete_subject_config,
    }
)


def mount_registry(
    app: FastAPI,
    store: RegistryStore,
    *,
    auth: Callable[..., Any],
    on_schema_registered: SchemaRegisteredHook | None = None,
    prefix: str = "/registry",
) -> None:
    """Serve the registry on `app` under `prefix`.

    `auth` is a FastAPI dependency run before every registry request; it may declare
    `access: Annotated[Access, Depends(required_access)]` and raise `HTTPException(401/403)` (answered in Confluent's
    error shape). `on_schema_registered(subject, version, schema_id, schema)` runs after every successful
    registration, including one that returns an existing version, so an idempotent upsert there heals.
    """
    app.state.registry_store = store
    app.dependency_overrides[registry_auth] = auth
    if on_schema_registered is not None:
        hook = on_schema_registered
        app.dependency_overrides[get_schema_registered_hook] = lambda: hook
    app.include_router(router, prefix=prefix)
