"""Audit: Atlas's per-entity audit (`GET /api/atlas/v2/entity/{guid}/audit`) and deid's feed of every
write (`/api/deid/v1/audit`), to which clients also post actions that are not entity writes
(re-identification, erasure, key rotation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from catalog.server.audit import entity_audit_event, event_id_from_key, feed_event
from catalog.server.auth import Steward, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AuditRecord
from catalog.server.users import Principal
from catalog.store.repository import AuditRepo, EntityRepo

entity_router = APIRouter(prefix="/api/atlas/v2/entity", tags=["audit"])
router = APIRouter(prefix="/api/deid/v1/audit", tags=["audit"])


@entity_router.get("/{guid}/audit", summary="An entity's audit events, newest first (EntityAuditEventV2)")
def entity_audit(
    guid: str,
    startKey: str | None = Query(None, max_length=256, description="eventKey of the last event of the previous page"),
    auditAction: str | None = Query(None, max_length=64),
    count: int = Query(100, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=10**9),
    sortOrder: str = Query("desc", pattern="^(asc|desc|ASC|DESC)$"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> list[dict[str, Any]]:
    with ctx.store.read() as session:
        audit = AuditRepo(session)
        if EntityRepo(session).get(guid) is None and not audit.exists_for_entity(guid):
            raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
        rows = audit.for_entity(
            guid,
            action=auditAction,
            before_id=event_id_from_key(startKey) if startKey else None,
            offset=offset,
            count=count,
            newest_first=sortOrder.lower() == "desc",
        )
        return [entity_audit_event(row) for row in rows]


@router.get("", summary="Every audited write in order (poll with since=<last id>)")
def audit_feed(
    since: int = Query(0, ge=0, le=2**62, description="Only events with an id above this"),
    limit: int = Query(100, ge=1, le=10000),
    user: str | None = Query(None, max_length=128),
    action: str | None = Query(None, max_length=64),
    entityGuid: str | None = Query(None, max_length=64),
    typeName: str | None = Query(None, max_length=255),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    with ctx.store.read() as session:
        rows = AuditRepo(session).feed(
            after_id=since, limit=limit, user=user, action=action, entity_guid=entityGuid, type_name=typeName
        )
    events = [feed_event(row) for row in rows]
    return {"events": events, "next": events[-1]["id"] if events else since}


@router.post("", status_code=201, summary="Record an action that is not an entity write (as the calling user)")
def record(
    body: AuditRecord, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    if body.action.startswith(("ENTITY_", "CLASSIFICATION_", "TYPE_DEF_", "USER_")):
        raise AtlasError(Code.INVALID_PARAMETERS, f"{body.action} is recorded by the catalog itself")

    def run(session: Session) -> dict[str, Any]:
        row = AuditRepo(session).record(
            principal.name, body.action, entity_guid=body.entityGuid, type_name=body.typeName, details=body.details
        )
        return feed_event(row)

    return ctx.store.write(run)
