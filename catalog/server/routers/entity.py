"""`/api/atlas/v2/entity`: entities, as Atlas's EntityREST (classification endpoints live in
`routers/classification.py`, the per-entity audit in `routers/audit.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy.orm import Session

from catalog.server.auth import Steward, Viewer
from catalog.server.bulk import bulk_upsert, flatten
from catalog.server.context import CatalogContext, get_context
from catalog.server.entities import EntityWriter, MutationResult
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasEntitiesWithExtInfo, AtlasEntity, AtlasEntityWithExtInfo
from catalog.server.users import Principal
from catalog.server.views import EntityReader

router = APIRouter(prefix="/api/atlas/v2/entity", tags=["entity"])

QualifiedName = Query(None, alias="attr:qualifiedName", description="Unique attribute (any attr:NAME=VALUE works)")


def unique_attributes(request: Request) -> dict[str, str]:
    """`attr:NAME=VALUE` query parameters (Atlas's way of naming an entity by unique attributes)."""
    return {key[5:]: value for key, value in request.query_params.items() if key.startswith("attr:") and key[5:]}


def read(ctx: CatalogContext, fn: Callable[[EntityReader], Any]) -> Any:
    with ctx.store.read() as session:
        return fn(EntityReader(session, ctx.types.registry(session)))


def mutate(ctx: CatalogContext, principal: Principal, fn: Callable[[EntityWriter], MutationResult]) -> dict[str, Any]:
    """Run `fn` in one write transaction and answer with Atlas's EntityMutationResponse."""

    def run(session: Session) -> dict[str, Any]:
        writer = EntityWriter(session, ctx.types.registry(session), principal.name)
        return fn(writer).render(writer.reader)

    return ctx.store.write(run)


@router.post("", summary="Create or update one entity (matched by guid, else by unique attributes)")
def create_or_update(
    body: AtlasEntityWithExtInfo,
    replaceClassifications: bool = Query(False),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    return mutate(
        ctx,
        principal,
        lambda w: w.upsert([body.entity], body.referredEntities, replace_classifications=replaceClassifications),
    )


@router.post("/bulk", summary="Create or update entities (one transaction up to 5,000; beyond, chunked commits)")
def create_or_update_bulk(
    body: AtlasEntitiesWithExtInfo,
    replaceClassifications: bool = Query(False),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    return bulk_upsert(
        ctx.store,
        ctx.types.registry,
        principal.name,
        flatten(body.entities, body.referredEntities),
        replace_classifications=replaceClassifications,
    )


@router.get("/bulk", summary="Entities by guid (AtlasEntitiesWithExtInfo)")
def get_bulk(
    guid: list[str] = Query(..., min_length=1),
    minExtInfo: bool = Query(False),
    ignoreRelationships: bool = Query(False),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    def fetch(reader: EntityReader) -> dict[str, Any]:
        entities, referred = [], {}
        for one in dict.fromkeys(guid):
            found = reader.with_ext_info(
                reader.require(one), min_ext_info=minExtInfo, ignore_relationships=ignoreRelationships
            )
            entities.append(found["entity"])
            referred.update(found["referredEntities"])
        for entity in entities:
            referred.pop(entity["guid"], None)
        return {"entities": entities, "referredEntities": referred}

    return read(ctx, fetch)


@router.delete("/bulk", summary="Delete entities by guid (soft delete)")
def delete_bulk(
    guid: list[str] = Query(..., min_length=1),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    return mutate(ctx, principal, lambda w: w.delete(list(dict.fromkeys(guid))))


@router.get("/guid/{guid}", summary="An entity with its referred entities")
def get_by_guid(
    guid: str,
    minExtInfo: bool = Query(False),
    ignoreRelationships: bool = Query(False),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    return read(
        ctx,
        lambda r: r.with_ext_info(r.require(guid), min_ext_info=minExtInfo, ignore_relationships=ignoreRelationships),
    )


@router.get("/guid/{guid}/header", summary="An entity's header")
def get_header(guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> dict[str, Any]:
    return read(ctx, lambda r: r.headers([r.require(guid)])[0])


@router.put("/guid/{guid}", summary="Set one attribute (?name=ATTRIBUTE, body: the JSON value)")
def update_attribute(
    guid: str,
    name: str = Query(..., min_length=1, max_length=255),
    value: Any = Body(None),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    def run(writer: EntityWriter) -> MutationResult:
        record = writer.reader.require(guid)
        entity = AtlasEntity(typeName=record.row.type_name, guid=guid, attributes={name: value})
        return writer.upsert([entity], partial=True)

    return mutate(ctx, principal, run)


@router.delete("/guid/{guid}", summary="Delete an entity (soft delete: status DELETED)")
def delete_by_guid(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    return mutate(ctx, principal, lambda w: w.delete([guid]))


@router.get("/uniqueAttribute/type/{typeName}", summary="An entity by type and unique attributes")
def get_by_unique_attribute(
    typeName: str,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    minExtInfo: bool = Query(False),
    ignoreRelationships: bool = Query(False),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    attrs = unique_attributes(request)
    return read(
        ctx,
        lambda r: r.with_ext_info(
            r.require_unique(typeName, attrs), min_ext_info=minExtInfo, ignore_relationships=ignoreRelationships
        ),
    )


@router.get("/uniqueAttribute/type/{typeName}/header", summary="An entity's header by type and unique attributes")
def get_header_by_unique_attribute(
    typeName: str,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    attrs = unique_attributes(request)
    return read(ctx, lambda r: r.headers([r.require_unique(typeName, attrs)])[0])


@router.put("/uniqueAttribute/type/{typeName}", summary="Partially update an entity found by unique attributes")
def update_by_unique_attribute(
    typeName: str,
    body: AtlasEntityWithExtInfo,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    attrs = unique_attributes(request)

    def run(writer: EntityWriter) -> MutationResult:
        record = writer.reader.require_unique(typeName, attrs)
        if body.entity.typeName != record.row.type_name:
            raise AtlasError(Code.TYPE_MATCH_FAILED, body.entity.typeName, record.row.type_name)
        entity = body.entity.model_copy(update={"guid": record.guid})
        return writer.upsert([entity], body.referredEntities, partial=True)

    return mutate(ctx, principal, run)


@router.delete("/uniqueAttribute/type/{typeName}", summary="Delete an entity found by unique attributes")
def delete_by_unique_attribute(
    typeName: str,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    attrs = unique_attributes(request)
    return mutate(ctx, principal, lambda w: w.delete([w.reader.require_unique(typeName, attrs).guid]))
