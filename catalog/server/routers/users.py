"""`/api/deid/v1/users`: user management for admins (who am I: `/api/atlas/admin/session`, routers/admin.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from catalog.server.auth import Admin
from catalog.server.context import CatalogContext, get_context
from catalog.server.models import UserCreate, UserUpdate
from catalog.server.users import Principal

router = APIRouter(prefix="/api/deid/v1", tags=["users"])


@router.get("/users", summary="Users and roles (no passwords)")
def list_users(ctx: CatalogContext = Depends(get_context), principal: Principal = Admin) -> list[dict[str, Any]]:
    return ctx.users.list()


@router.post("/users", status_code=201, summary="Add a user")
def add_user(
    body: UserCreate, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin
) -> dict[str, str]:
    ctx.users.add(body.name, body.password, body.role, principal.name)
    return {"name": body.name, "role": body.role}


@router.put("/users/{name}", status_code=204, summary="Change a user's password or role")
def update_user(
    name: str, body: UserUpdate, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin
) -> Response:
    ctx.users.update(name, principal.name, password=body.password, role=body.role)
    return Response(status_code=204)


@router.delete("/users/{name}", status_code=204, summary="Remove a user")
def remove_user(name: str, ctx: CatalogContext = Depends(get_context), principal: Principal = Admin) -> Response:
    ctx.users.remove(name, principal.name)
    return Response(status_code=204)
