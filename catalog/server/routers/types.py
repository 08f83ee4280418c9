"""`/api/atlas/v2/types`: typedefs, as Atlas's TypesREST."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from catalog.server.auth import Admin, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasTypeNames, AtlasTypesDef
from catalog.server.typedefs import TypeDefInfo, definitions_of, render, render_types_def
from catalog.server.users import Principal

router = APIRouter(prefix="/api/atlas/v2/types", tags=["types"])

_PATH_CATEGORY = {
    "enumdef": "ENUM",
    "structdef": "STRUCT",
    "classificationdef": "CLASSIFICATION",
    "entitydef": "ENTITY",
    "relationshipdef": "RELATIONSHIP",
    "businessmetadatadef": "BUSINESS_METADATA",
}
TypeFilter = Literal["enum", "struct", "classification", "entity", "relationship", "business_metadata"]


def _infos(ctx: CatalogContext) -> tuple[dict[str, TypeDefInfo], Any]:
    with ctx.store.read() as session:
        return ctx.types.infos(session), ctx.types.registry(session)


def _filtered(
    ctx: CatalogContext,
    type_: str | None,
    name: str | None,
    supertype: str | None,
    not_supertype: str | None,
    service_type: str | None,
) -> tuple[list[TypeDefInfo], Any]:
    infos, registry = _infos(ctx)
    selected = []
    for info in infos.values():
        if type_ and info.category != type_.upper():
            continue
        if name and info.name != name:
            continue
        if service_type and info.definition.get("serviceType") != service_type:
            continue
        supers = {info.name} | (
            registry.structured[info.name].all_super_types if info.name in registry.structured else set()
        )
        if supertype and supertype not in supers:
            continue
        if not_supertype and not_supertype in supers:
            continue
        selected.append(info)
    return selected, registry


@router.get("/typedefs", summary="All typedefs (filters: type, name, supertype, notsupertype, serviceType)")
def get_typedefs(
    type: TypeFilter | None = Query(None),  # Atlas names this parameter `type`
    name: str | None = Query(None, max_length=255),
    supertype: str | None = Query(None, max_length=255),
    notsupertype: str | None = Query(None, max_length=255),
    serviceType: str | None = Query(None, max_length=255),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    infos, registry = _filtered(ctx, type, name, supertype, notsupertype, serviceType)
    return render_types_def(infos, registry)


@router.get("/typedefs/headers", summary="Name, guid and category of every typedef")
def get_typedef_headers(
    type: TypeFilter | None = Query(None),  # Atlas names this parameter `type`
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> list[dict[str, Any]]:
    infos, _ = _filtered(ctx, type, None, None, None, None)
    return [{"guid": i.guid, "name": i.name, "category": i.category} for i in infos]


@router.post("/typedefs", summary="Create typedefs (409 if one exists)")
def create_typedefs(
    body: AtlasTypesDef, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin
) -> dict[str, Any]:
    return ctx.typedefs.create(body, principal.name)


@router.put("/typedefs", summary="Update typedefs (attributes may only be added, and only optional ones)")
def update_typedefs(
    body: AtlasTypesDef, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin
) -> dict[str, Any]:
    return ctx.typedefs.update(body, principal.name)


@router.delete("/typedefs", status_code=204, summary="Delete typedefs (409 while instances or types refer to them)")
def delete_typedefs(
    body: AtlasTypeNames, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin
) -> Response:
    ctx.typedefs.delete([raw["name"] for _, raw in definitions_of(body)], principal.name)
    return Response(status_code=204)


@router.delete("/typedef/name/{name}", status_code=204, summary="Delete one typedef by name")
def delete_typedef(name: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin) -> Response:
    ctx.typedefs.delete([name], principal.name)
    return Response(status_code=204)


def _by_name(ctx: CatalogContext, name: str, category: str | None) -> dict[str, Any]:
    infos, registry = _infos(ctx)
    info = infos.get(name)
    if info is None or (category is not None and info.category != category):
        raise AtlasError(Code.TYPE_NAME_NOT_FOUND, name)
    return render(info, registry)


def _by_guid(ctx: CatalogContext, guid: str, category: str | None) -> dict[str, Any]:
    infos, registry = _infos(ctx)
    for info in infos.values():
        if info.guid == guid and (category is None or info.category == category):
            return render(info, registry)
    raise AtlasError(Code.TYPE_GUID_NOT_FOUND, guid)


@router.get("/typedef/name/{name}", summary="One typedef of any category by name")
def get_typedef_by_name(
    name: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _by_name(ctx, name, None)


@router.get("/typedef/guid/{guid}", summary="One typedef of any category by guid")
def get_typedef_by_guid(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    return _by_guid(ctx, guid, None)


@router.get("/{kind}/name/{name}", summary="A typedef of one category by name (entitydef, classificationdef, …)")
def get_def_by_name(
    kind: Literal["enumdef", "structdef", "classificationdef", "entitydef", "relationshipdef", "businessmetadatadef"],
    name: str,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    return _by_name(ctx, name, _PATH_CATEGORY[kind])


@router.get("/{kind}/guid/{guid}", summary="A typedef of one category by guid")
def get_def_by_guid(
    kind: Literal["enumdef", "structdef", "classificationdef", "entitydef", "relationshipdef", "businessmetadatadef"],
    guid: str,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> dict[str, Any]:
    return _by_guid(ctx, guid, _PATH_CATEGORY[kind])
