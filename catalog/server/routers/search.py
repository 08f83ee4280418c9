"""`/api/atlas/v2/search`: basic search (GET and POST) and DSL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from catalog.server.auth import Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.dsl import run_dsl
from catalog.server.models import SearchParameters
from catalog.server.search import ALL_ENTITY_TYPES, Searcher
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
    limit: int = Query(100, description="≤ 0 means the default (100); at most 10000"),
    offset: int = Query(0, description="< 0 means 0"),
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
        limit=limit,  # type: ignore[arg-type]  # normalised by the model (≤ 0 → default)
        offset=offset,  # type: ignore[arg-type]
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
    limit: int | None = Query(None, description="≤ 0 means the default; at most 10000"),
    offset: int | None = Query(None, description="< 0 means 0"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    with ctx.store.read() as session:
        page = SearchParameters(limit=limit, offset=offset)  # type: ignore[arg-type]  # Atlas's defaults for ≤ 0
        return run_dsl(Searcher(session, ctx.types.registry(session)), query, page.limit, page.offset)


class QuickSearchParameters(SearchParameters):
    """POST /search/quick body: Atlas's QuickSearchParameters (a subset of SearchParameters)."""


def _quick(ctx: CatalogContext, params: SearchParameters) -> dict[str, Any]:
    """Atlas's AtlasQuickSearchResult: free text over every entity type unless one is named."""
    if not (params.typeName or params.classification or params.query):
        params = params.model_copy(update={"typeName": ALL_ENTITY_TYPES})
    result = _search(ctx, params)
    result["queryType"] = "QUICK"
    return {"searchResults": result, "aggregationMetrics": {}}


@router.get("/quick", summary="Quick search: free text, optionally within a type or classification")
def quick_get(
    query: str | None = Query(None, max_length=4096),
    typeName: str | None = Query(None, max_length=255),
    classification: str | None = Query(None, max_length=255),
    excludeDeletedEntities: bool = Query(True),
    limit: int = Query(100, description="≤ 0 means the default (100); at most 10000"),
    offset: int = Query(0, description="< 0 means 0"),
    attributes: list[str] | None = Query(None),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    params = SearchParameters(
        query=query,
        typeName=typeName,
        classification=classification,
        excludeDeletedEntities=excludeDeletedEntities,
        limit=limit,  # type: ignore[arg-type]
        offset=offset,  # type: ignore[arg-type]
        attributes=attributes,
    )
    return _quick(ctx, params)


@router.post("/quick", summary="Quick search with entityFilters (Atlas QuickSearchParameters)")
def quick_post(
    body: QuickSearchParameters, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _quick(ctx, body)
