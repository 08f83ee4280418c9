"""Atlas's admin endpoints: status (public, for health checks), version, session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from catalog.server.auth import Viewer
from catalog.server.users import Principal
from deid import __version__

router = APIRouter(prefix="/api/atlas/admin", tags=["admin"])


@router.get("/status", summary="Health: {'Status': 'ACTIVE'} once the catalog serves requests")
def status() -> dict[str, str]:
    return {"Status": "ACTIVE"}


@router.get("/version", summary="Server version (Atlas shape)")
def version(principal: Principal = Viewer) -> dict[str, str]:
    return {"Version": __version__, "Name": "deid-catalog", "Description": "deid's Atlas v2-compatible catalog"}


@router.get("/session", summary="The calling user and roles (Atlas's shape; deid's one 'who am I')")
def session(principal: Principal = Viewer) -> dict[str, Any]:
    return {"userName": principal.name, "groups": [], "roles": [principal.role]}
