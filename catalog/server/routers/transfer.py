"""`/api/atlas/admin/export` and `/api/atlas/admin/import`: Atlas's zip export and import (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, File, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from catalog.server.auth import Admin, client_address
from catalog.server.context import CatalogContext, get_context
from catalog.server.errors import AtlasError, Code
from catalog.server.transfer import export_zip, import_zip
from catalog.server.users import Principal

router = APIRouter(prefix="/api/atlas/admin", tags=["admin"])
ExportZip = File(..., description="the zip written by /admin/export (or by Apache Atlas)")


@router.post(
    "/export",
    summary="Export entities (and the types they need) as Atlas's zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(
    request: Request,
    body: dict[str, Any] = Body(..., description='AtlasExportRequest: {"itemsToExport": [...], "options": {...}}'),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Admin,
) -> Response:
    with ctx.store.read() as session:
        registry, infos = ctx.types.registry(session), ctx.types.infos(session)
        data = export_zip(session, registry, infos, body, principal.name, client_address(request))
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="atlas-export.zip"'})  # fmt: skip


@router.post("/import", summary="Import Atlas's export zip (multipart field `data`); entities upserted by name")
async def import_(
    data: UploadFile = ExportZip,
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Admin,
) -> dict[str, Any]:
    content = await data.read()
    if not content:
        raise AtlasError(Code.BAD_REQUEST, "the import file is empty")
    return await run_in_threadpool(import_zip, ctx.store, ctx.types.registry, ctx.typedefs, content, principal.name)
