"""`/api/deid/v1/policies`: each domain's draft policy and its published versions (see
catalog/server/policies.py). Viewers read; stewards edit the draft and publish."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Path

from catalog.server.auth import Steward, Viewer
from catalog.server.context import CatalogContext, get_context
from catalog.server.policies import bad_request, not_found
from catalog.server.users import Principal

router = APIRouter(prefix="/api/deid/v1/policies", tags=["policies"])

Domain = Path(..., pattern=r"^[a-z][a-z0-9_-]{0,62}$", description="A domain of the registry")


@router.get("", summary="Every domain: whether it has a draft, its latest published version")
def list_policies(ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> list[dict[str, Any]]:
    return ctx.policies.overview()


@router.get("/{domain}/draft", summary="The domain's draft policy and which rules a steward set")
def get_draft(
    domain: str = Domain, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> dict[str, Any]:
    draft = ctx.policies.get_draft(domain)
    if draft is None:
        raise not_found(f"a draft policy for domain {domain!r}")
    return draft.to_json()


@router.put("/{domain}/draft", summary="Replace the draft with a steward's whole policy (every rule the steward's)")
def put_draft(
    domain: str = Domain,
    body: dict[str, Any] = Body(..., examples=[{"policy": {"rules": {"user_id": {"treatment": "encrypt"}}}}]),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    return ctx.policies.put_draft(domain, _policy_of(body), principal.name).to_json()


@router.put("/{domain}/draft/rules/{path:path}", summary="Set one field's rule in the draft (a steward's choice)")
def put_rule(
    domain: str = Domain,
    path: str = Path(..., max_length=512),
    body: dict[str, Any] = Body(..., examples=[{"rule": {"treatment": "mask", "params": {"length": 16}}}]),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    if "rule" not in body:
        raise bad_request('body: give {"rule": {...}}')
    return ctx.policies.set_rule(domain, path, body["rule"], principal.name).to_json()


@router.post("/{domain}/suggestions", summary="Merge inference's suggested policy into the draft")
def suggest(
    domain: str = Domain,
    body: dict[str, Any] = Body(...),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Steward,
) -> dict[str, Any]:
    return ctx.policies.suggest(domain, _policy_of(body), principal.name).to_json()


@router.post("/{domain}/publish", summary="Publish the draft as the next version (nothing if unchanged)")
def publish(
    domain: str = Domain, ctx: CatalogContext = Depends(get_context), principal: Principal = Steward
) -> dict[str, Any]:
    return ctx.policies.publish(domain, principal.name).to_json()


@router.get("/{domain}/published", summary="The latest published version")
def latest(domain: str = Domain, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer) -> Any:
    version = ctx.policies.latest(domain)
    if version is None:
        raise not_found(f"a published policy for domain {domain!r}")
    return version.policy.to_document()


@router.get("/{domain}/versions", summary="Published versions, oldest first, with who published them and when")
def versions(
    domain: str = Domain, ctx: CatalogContext = Depends(get_context), principal: Principal = Viewer
) -> list[dict[str, Any]]:
    return [v.summary() for v in ctx.policies.versions(domain)]


@router.get("/{domain}/versions/{number}", summary="One published version")
def version(
    domain: str = Domain,
    number: int = Path(..., ge=1, le=10**9),
    ctx: CatalogContext = Depends(get_context),
    principal: Principal = Viewer,
) -> Any:
    found = ctx.policies.version(domain, number)
    if found is None:
        raise not_found(f"version {number} of domain {domain!r}'s policy")
    return found.policy.to_document()


def _policy_of(body: dict[str, Any]) -> Any:
    if "policy" not in body:
        raise bad_request('body: give {"policy": {...}}')
    return body["policy"]
