"""`/api/atlas/v2/search`: basic search (GET and POST) and DSL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from catalog.server.auth import Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.dsl import run_dsl
from catalog.server.models import SearchParameters
from catalog.server.search import Searcher
from catalog.server.users import Principal

router = APIRouter(prefix="/api/atlas/v2/search", tags=["search"])


def _search(ctx: CatalogContext, params: SearchParameters) -> dict[str, Any]:
    with ctx.store.read() as session:
        return Searcher(session, ctx.types.registry(session)).basic(params)


@router.get("/basic", summary="Basic search by typeName, classification and free text")
def basic_get(
    query: str | None = Query(None, max_length=4096),
    typeName: str | None = Query(None, max_length=255),
    classification: str | None = Query(None, max_length=255),
    sortBy: str | None = Query(None, max_length=255),
    sortOrder: str | None = Query(None, pattern="^(ASCENDING|DESCENDING)$"),
    excludeDeletedEntities: bool = Query(True),
    limit: int = Query(100, ge=1, le=10000),
    offset: int = Query(0, ge=0, le=10**9),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    params = SearchParameters(
        query=query,
        typeName=typeName,
        classification=classification,
        sortBy=sortBy,
        sortOrder=sortOrder,  # type: ignore[arg-type]
        excludeDeletedEntities=excludeDeletedEntities,
        limit=limit,
        offset=offset,
    )
    return _search(ctx, params)


@router.post("/basic", summary="Basic search with entityFilters / tagFilters (Atlas SearchParameters)")
def basic_post(
    body: SearchParameters, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _search(ctx, body)


@router.get("/dsl", summary='DSL search, e.g. kafka_topic where qualifiedName = "t@eu"')
def dsl(
    query: str = Query(..., min_length=1, max_length=4096),
    limit: int | None = Query(None, ge=1, le=10000),
    offset: int | None = Query(None, ge=0, le=10**9),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    with ctx.store.read() as session:
        return run_dsl(Searcher(session, ctx.types.registry(session)), query, limit, offset)
