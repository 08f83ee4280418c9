"""`/api/atlas/v2/glossary`: glossaries, terms, categories and term assignments, as Atlas's GlossaryREST.

Reads need viewer, writes steward (a glossary is curation, like classifications). Deletes answer 204.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from sqlalchemy.orm import Session

from catalog.server.auth import Steward, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.entities import EntityWriter
from catalog.server.glossary import CATEGORY, GLOSSARY, TERM, GlossaryService
from catalog.server.models import MAX_LIMIT
from catalog.server.users import Principal
from catalog.server.views import EntityReader

router = APIRouter(prefix="/api/atlas/v2/glossary", tags=["glossary"])
service = GlossaryService()
Document = Body(..., description="AtlasGlossary / AtlasGlossaryTerm / AtlasGlossaryCategory JSON")


def _read(ctx: CatalogContext, fn: Callable[[EntityReader], Any]) -> Any:
    with ctx.store.read() as session:
        return fn(EntityReader(session, ctx.types.registry(session)))


def _write(ctx: CatalogContext, principal: Principal, fn: Callable[[EntityWriter], Any]) -> Any:
    def run(session: Session) -> Any:
        return fn(EntityWriter(session, ctx.types.registry(session), principal.name))

    return ctx.store.write(run)


def _create_then_render(
    ctx: CatalogContext, principal: Principal, type_name: str, create: Callable[[EntityWriter], str]
) -> dict[str, Any]:
    guid = _write(ctx, principal, create)
    return _read(ctx, lambda r: service.render(r, guid, type_name))


# -- glossaries ---------------------------------------------------------------------------------------------


@router.get("", summary="All glossaries")
def list_glossaries(
    limit: int = Query(-1, description="-1: all"),
    offset: int = Query(0),
    sort: Literal["ASC", "DESC"] = Query("ASC"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> list[dict[str, Any]]:
    count = MAX_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    return _read(ctx, lambda r: service.glossaries(r, count, max(offset, 0), sort == "DESC"))


@router.post("", summary="Create a glossary (409 if one has that name)")
def create_glossary(
    body: dict[str, Any] = Document, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    return _create_then_render(ctx, principal, GLOSSARY, lambda w: service.create_glossary(w, body))


@router.get("/{guid}", summary="A glossary with its term and category headers")
def get_glossary(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _read(ctx, lambda r: service.render(r, guid, GLOSSARY))


@router.get("/{guid}/detailed", summary="A glossary with its terms and categories in full (AtlasGlossaryExtInfo)")
def get_glossary_detailed(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _read(ctx, lambda r: service.detailed(r, guid))


@router.get("/{guid}/terms", summary="A glossary's terms")
def glossary_terms(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> list[dict[str, Any]]:
    return list(_read(ctx, lambda r: service.detailed(r, guid))["termInfo"].values())


@router.get("/{guid}/categories", summary="A glossary's categories")
def glossary_categories(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> list[dict[str, Any]]:
    return list(_read(ctx, lambda r: service.detailed(r, guid))["categoryInfo"].values())


@router.put("/{guid}", summary="Update a glossary's descriptions")
def update_glossary(
    guid: str,
    body: dict[str, Any] = Document,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    _write(ctx, principal, lambda w: service.update(w, guid, GLOSSARY, body))
    return _read(ctx, lambda r: service.render(r, guid, GLOSSARY))


@router.delete("/{guid}", status_code=204, summary="Delete a glossary with its terms and categories")
def delete_glossary(guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward) -> Response:
    _write(ctx, principal, lambda w: service.delete(w, guid, GLOSSARY))
    return Response(status_code=204)


# -- terms ----------------------------------------------------------------------------------------------------


@router.post("/term", summary="Create a term (anchor.glossaryGuid names its glossary)")
def create_term(
    body: dict[str, Any] = Document, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    return _create_then_render(ctx, principal, TERM, lambda w: service.create_term(w, body))


@router.post("/terms", summary="Create several terms in one transaction")
def create_terms(
    body: list[dict[str, Any]] = Document, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> list[dict[str, Any]]:
    guids = _write(ctx, principal, lambda w: [service.create_term(w, item) for item in body])
    return _read(ctx, lambda r: [service.render(r, g, TERM) for g in guids])


@router.get("/term/{guid}", summary="A term")
def get_term(guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> dict[str, Any]:
    return _read(ctx, lambda r: service.render(r, guid, TERM))


@router.put("/term/{guid}", summary="Update a term's descriptions")
def update_term(
    guid: str,
    body: dict[str, Any] = Document,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    _write(ctx, principal, lambda w: service.update(w, guid, TERM, body))
    return _read(ctx, lambda r: service.render(r, guid, TERM))


@router.delete("/term/{guid}", status_code=204, summary="Delete a term (400 while entities carry it)")
def delete_term(guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward) -> Response:
    _write(ctx, principal, lambda w: service.delete(w, guid, TERM))
    return Response(status_code=204)


@router.get("/terms/{guid}/assignedEntities", summary="Entities the term is assigned to (AtlasRelatedObjectIds)")
def assigned_entities(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> list[dict[str, Any]]:
    return _read(ctx, lambda r: service.assigned_entities(r, guid))


@router.post("/terms/{guid}/assignedEntities", status_code=204, summary="Assign the term to entities")
def assign_term(
    guid: str,
    body: list[dict[str, Any]] = Body(..., description="AtlasRelatedObjectIds (guid)"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    _write(ctx, principal, lambda w: service.assign(w, guid, body, remove=False))
    return Response(status_code=204)


@router.put("/terms/{guid}/assignedEntities", status_code=204, summary="Take the term off entities")
def disassociate_term(
    guid: str,
    body: list[dict[str, Any]] = Body(..., description="AtlasRelatedObjectIds (guid)"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    _write(ctx, principal, lambda w: service.assign(w, guid, body, remove=True))
    return Response(status_code=204)


# -- categories -----------------------------------------------------------------------------------------------


@router.post("/category", summary="Create a category (anchor.glossaryGuid; parentCategory.categoryGuid optional)")
def create_category(
    body: dict[str, Any] = Document, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    return _create_then_render(ctx, principal, CATEGORY, lambda w: service.create_category(w, body))


@router.post("/categories", summary="Create several categories in one transaction")
def create_categories(
    body: list[dict[str, Any]] = Document, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> list[dict[str, Any]]:
    guids = _write(ctx, principal, lambda w: [service.create_category(w, item) for item in body])
    return _read(ctx, lambda r: [service.render(r, g, CATEGORY) for g in guids])


@router.get("/category/{guid}", summary="A category")
def get_category(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _read(ctx, lambda r: service.render(r, guid, CATEGORY))


@router.put("/category/{guid}", summary="Update a category's descriptions")
def update_category(
    guid: str,
    body: dict[str, Any] = Document,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    _write(ctx, principal, lambda w: service.update(w, guid, CATEGORY, body))
    return _read(ctx, lambda r: service.render(r, guid, CATEGORY))


@router.delete("/category/{guid}", status_code=204, summary="Delete a category")
def delete_category(guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward) -> Response:
    _write(ctx, principal, lambda w: service.delete(w, guid, CATEGORY))
    return Response(status_code=204)
