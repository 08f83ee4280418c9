"""Classifications of entities (Atlas's EntityREST classification endpoints). Writes answer 204."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from catalog.server.auth import Steward, Viewer
from catalog.server.classifications import ClassificationOps
from catalog.server.context import CatalogContext, get_context
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasClassification, ClassificationAssociateRequest
from catalog.server.routers.entity import QualifiedName, unique_attributes
from catalog.server.users import Principal
from catalog.server.views import EntityReader

router = APIRouter(prefix="/api/atlas/v2/entity", tags=["classification"])


def _write(
    ctx: CatalogContext, principal: Principal, fn: Callable[[ClassificationOps, EntityReader], None]
) -> Response:
    def run(session: Session) -> None:
        registry = ctx.types.registry(session)
        fn(ClassificationOps(session, registry, principal.name), EntityReader(session, registry))

    ctx.store.write(run)
    return Response(status_code=204)


def _active(reader: EntityReader, guid: str) -> Any:
    record = reader.require(guid)
    if record.row.status != "ACTIVE":
        raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
    return record


def _check_entity_guid(guid: str, classifications: list[AtlasClassification]) -> None:
    if not classifications:
        raise AtlasError(Code.INVALID_PARAMETERS, "no classifications given")
    for classification in classifications:
        if classification.entityGuid not in (None, guid):
            raise AtlasError(Code.INVALID_PARAMETERS, "classification entityGuid differs from the entity")


@router.get("/guid/{guid}/classifications", summary="An entity's classifications (AtlasClassifications)")
def list_classifications(
    guid: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    with ctx.store.read() as session:
        registry = ctx.types.registry(session)
        record = EntityReader(session, registry).require(guid)
        return ClassificationOps(session, registry, principal.name).listing(record)


@router.get("/guid/{guid}/classification/{name}", summary="One classification of an entity")
def get_classification(
    guid: str, name: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    with ctx.store.read() as session:
        registry = ctx.types.registry(session)
        record = EntityReader(session, registry).require(guid)
        for item in ClassificationOps(session, registry, principal.name).listing(record)["list"]:
            if item["typeName"] == name:
                return item
    raise AtlasError(Code.CLASSIFICATION_NOT_FOUND, name)


@router.post("/guid/{guid}/classifications", status_code=204, summary="Add classifications (400 if one is present)")
def add_classifications(
    guid: str,
    body: list[AtlasClassification],
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    _check_entity_guid(guid, body)

    def run(ops: ClassificationOps, reader: EntityReader) -> None:
        record = _active(reader, guid)
        for classification in body:
            ops.add(record, classification)

    return _write(ctx, principal, run)


@router.put(
    "/guid/{guid}/classifications",
    status_code=204,
    summary="Update classifications (a detected update keeps a steward's confirmed/rejected decision)",
)
def update_classifications(
    guid: str,
    body: list[AtlasClassification],
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    _check_entity_guid(guid, body)

    def run(ops: ClassificationOps, reader: EntityReader) -> None:
        record = _active(reader, guid)
        for classification in body:
            ops.update(record, classification)

    return _write(ctx, principal, run)


@router.delete("/guid/{guid}/classification/{name}", status_code=204, summary="Remove a classification")
def delete_classification(
    guid: str, name: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> Response:
    return _write(ctx, principal, lambda ops, reader: ops.remove(_active(reader, guid), name))


@router.post("/bulk/classification", status_code=204, summary="Add one classification to many entities")
def add_classification_bulk(
    body: ClassificationAssociateRequest, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> Response:
    def run(ops: ClassificationOps, reader: EntityReader) -> None:
        for guid in dict.fromkeys(body.entityGuids):
            ops.add(_active(reader, guid), body.classification.model_copy(update={"entityGuid": guid}))

    return _write(ctx, principal, run)


@router.post(
    "/uniqueAttribute/type/{typeName}/classifications",
    status_code=204,
    summary="Add classifications by unique attributes",
)
def add_classifications_by_unique_attribute(
    typeName: str,
    body: list[AtlasClassification],
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    attrs = unique_attributes(request)

    def run(ops: ClassificationOps, reader: EntityReader) -> None:
        record = reader.require_unique(typeName, attrs)
        _check_entity_guid(record.guid, body)
        for classification in body:
            ops.add(record, classification)

    return _write(ctx, principal, run)


@router.put(
    "/uniqueAttribute/type/{typeName}/classifications",
    status_code=204,
    summary="Update classifications by unique attributes",
)
def update_classifications_by_unique_attribute(
    typeName: str,
    body: list[AtlasClassification],
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    attrs = unique_attributes(request)

    def run(ops: ClassificationOps, reader: EntityReader) -> None:
        record = reader.require_unique(typeName, attrs)
        _check_entity_guid(record.guid, body)
        for classification in body:
            ops.update(record, classification)

    return _write(ctx, principal, run)


@router.delete(
    "/uniqueAttribute/type/{typeName}/classification/{name}",
    status_code=204,
    summary="Remove a classification by unique attributes",
)
def delete_classification_by_unique_attribute(
    typeName: str,
    name: str,
    request: Request,
    qualifiedName: str | None = QualifiedName,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> Response:
    attrs = unique_attributes(request)
    return _write(ctx, principal, lambda ops, reader: ops.remove(reader.require_unique(typeName, attrs), name))
