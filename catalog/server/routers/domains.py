"""`/api/deid/v1/domains`: the domain registry (see catalog/server/domains.py). Viewers read; stewards and
admins create and change domains (each change audited as them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path

from catalog.server.auth import Steward, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.errors import AtlasError, Code
from catalog.server.users import Principal

router = APIRouter(prefix="/api/deid/v1/domains", tags=["domains"])

Name = Path(..., pattern=r"^[a-z][a-z0-9_]{0,47}$", description="A domain name: lower case, digits, '_'")


@router.get("", summary="Every domain: definition, topics, who created and last changed it, when")
def list_domains(ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in ctx.domains.entries()]


@router.get("/{name}", summary="One domain")
def get_domain(
    name: str = Name, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    entry = ctx.domains.entry(name)
    if entry is None:
        raise AtlasError(Code.EMPTY_RESULTS, f"domain {name!r}")
    return entry.to_json()


@router.put("/{name}", summary="Create or replace a domain (upsert by name; the same definition changes nothing)")
def put_domain(
    name: str = Name,
    body: dict[str, Any] = Body(
        ...,
        examples=[{"domain": {"subject_field": "user_id", "fields": {"user_id": {"type": "string"}}}}],
    ),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    if "domain" not in body:
        raise AtlasError(Code.BAD_REQUEST, "body: expected {\"domain\": {fields, subject_field, …}}")
    return ctx.domains.upsert(name, body["domain"], principal.name).to_json()
