"""Atlas's admin operations beyond status: metrics (viewer) and purge of soft-deleted entities (admin).

Export and import (zip) live in `routers/transfer.py`.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Body, Depends

from catalog.server.auth import Admin, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.entities import EntityWriter
from catalog.server.errors import AtlasError, Code
from catalog.server.users import Principal
from catalog.store.repository import ClassificationRepo, EntityRepo

router = APIRouter(prefix="/api/atlas/admin", tags=["admin"])


@router.get("/metrics", summary="Entity and classification counts per type (Atlas's AtlasMetrics)")
def metrics(ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> dict[str, Any]:
    with ctx.store.read() as session:
        registry = ctx.types.registry(session)
        counts = EntityRepo(session).counts_by_type()
        tags = ClassificationRepo(session).counts_by_type()
        type_count = len(registry.definitions)
    active = {t: n for (t, status), n in sorted(counts.items()) if status == "ACTIVE"}
    deleted = {t: n for (t, status), n in sorted(counts.items()) if status == "DELETED"}
    used = set(active) | set(deleted) | set(tags)
    return {
        "general": {
            "collectionTime": int(time.time() * 1000),
            "entityCount": sum(active.values()) + sum(deleted.values()),
            "tagCount": len(registry.names("CLASSIFICATION")),
            "typeCount": type_count,
            "typeUnusedCount": len(set(registry.names("ENTITY")) - used),
            "stats": {},
        },
        "entity": {"entityActive": active, "entityDeleted": deleted, "entityShell": {}},
        "tag": {"tagEntities": dict(sorted(tags.items()))},
    }


@router.put("/purge", summary="Purge soft-deleted entities by guid (body: a JSON list of guids)")
def purge(
    guids: list[str] = Body(..., description="guids of DELETED entities; others are skipped"),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Admin,
) -> dict[str, Any]:
    if not guids:
        raise AtlasError(Code.INVALID_PARAMETERS, "no guids given")

    def run(session: Any) -> dict[str, Any]:
        writer = EntityWriter(session, ctx.types.registry(session), principal.name)
        return writer.purge(guids).render(writer.reader)

    return ctx.store.write(run)
