"""`/api/atlas/v2/lineage`: lineage of a DataSet or Process."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from catalog.server.auth import Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.lineage import LineageWalker
from catalog.server.routers.entity import QualifiedName, unique_attributes
from catalog.server.users import Principal
from catalog.server.views import EntityReader

router = APIRouter(prefix="/api/atlas/v2/lineage", tags=["lineage"])

Direction = Query("BOTH", description="INPUT, OUTPUT or BOTH")
Depth = Query(3, ge=0, le=50, description="Process hops to follow")


@router.get("/{guid}", summary="Lineage graph around an entity (AtlasLineageInfo)")
def lineage(
    guid: str,
    direction: Literal["INPUT", "OUTPUT", "BOTH"] = Direction,
    depth: int = Depth,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    with ctx.store.read() as session:
        return LineageWalker(session, ctx.types.registry(session)).lineage(guid, direction, depth)


@router.get("/uniqueAttribute/type/{typeName}", summary="Lineage of an entity found by unique attributes")
def lineage_by_unique_attribute(
    typeName: str,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    direction: Literal["INPUT", "OUTPUT", "BOTH"] = Direction,
    depth: int = Depth,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    attrs = unique_attributes(request)
    with ctx.store.read() as session:
        registry = ctx.types.registry(session)
        record = EntityReader(session, registry).require_unique(typeName, attrs)
        return LineageWalker(session, registry).lineage(record.guid, direction, depth)
