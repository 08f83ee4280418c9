"""The Schema Registry API (catalog/registry) served by the catalog at /registry: same database, same
users (reads need viewer, writes steward), and every registered schema mirrored as an `avro_schema`
entity linked to its `kafka_topic`, so the catalog shows which schema each topic carries."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from catalog.registry.router import Access, RegistryResponse, mount_registry, required_access
from catalog.registry.service import subject_topic
from catalog.registry.store import SqlRegistryStore
from catalog.server.auth import current_principal
from catalog.server.context import CatalogContext
from catalog.server.entities import EntityWriter
from catalog.server.errors import AtlasError, register_error_renderer
from catalog.server.models import AtlasEntity

REGISTRY_USER = "schema-registry"  # who the audit names for the avro_schema mirror of a registration


def _authorize(request: Request, access: Annotated[Access, Depends(required_access)]) -> None:
    try:
        principal = current_principal(request)
    except AtlasError as exc:
        raise HTTPException(401, "use HTTP Basic authentication", {"WWW-Authenticate": "Basic"}) from exc
    role = {Access.ADMIN: "admin", Access.WRITE: "steward"}.get(access, "viewer")
    if not principal.may(role):
        what = "the global compatibility level" if access is Access.ADMIN else "schemas"
        raise HTTPException(403, f"{principal.name} (role {principal.role}) may not change {what}")


def avro_schema_entities(subject: str, version: int, schema_text: str, cluster: str) -> list[dict[str, Any]]:
    """The `avro_schema` (one per subject version) and, for `<topic>-value|key` subjects, its `kafka_topic`."""
    schema = json.loads(schema_text)
    named = schema if isinstance(schema, dict) else {}
    entity: dict[str, Any] = {
        "typeName": "avro_schema",
        "attributes": {
            "qualifiedName": f"{subject}.v{version}@{cluster}",
            "name": named.get("name") or subject,
            "namespace": named.get("namespace") or "",
            "type": named.get("type") if isinstance(named.get("type"), str) else "record",
            "avro_notation": schema_text,
            "versionId": str(version),
        },
    }
    found = subject_topic(subject)
    if found is None:
        return [entity]
    topic = found[0]
    topic_entity = {
        "typeName": "kafka_topic",
        "attributes": {"qualifiedName": f"{topic}@{cluster}", "name": topic, "topic": topic, "uri": topic},
        "relationshipAttributes": {
            "avroSchema": [
                {
                    "typeName": "avro_schema",
                    "uniqueAttributes": {"qualifiedName": entity["attributes"]["qualifiedName"]},
                }
            ]
        },
    }
    return [entity, topic_entity]


# Confluent's answer to a path or method it does not serve: {"error_code": 404, "message": "HTTP 404 Not Found"}.
_HTTP_REASONS = {404: "Not Found", 405: "Method Not Allowed", 413: "Request Entity Too Large"}


def _confluent_error(status: int, message: str) -> JSONResponse:
    if status in (404, 405):
        message = f"HTTP {status} {_HTTP_REASONS[status]}"
    return RegistryResponse({"error_code": status, "message": message}, status_code=status)


def mount(app: FastAPI, ctx: CatalogContext) -> None:
    def on_registered(subject: str, version: int, schema_id: int, schema_text: str) -> None:
        entities = avro_schema_entities(subject, version, schema_text, ctx.settings.cluster)

        def run(session: Any) -> None:
            writer = EntityWriter(session, ctx.types.registry(session), REGISTRY_USER)
            writer.upsert([AtlasEntity.model_validate(item) for item in entities], {})

        ctx.store.write(run)

    mount_registry(app, SqlRegistryStore(ctx.store.engine), auth=_authorize, on_schema_registered=on_registered)
    register_error_renderer(app, "/registry", _confluent_error)
