"""Policy page: the draft against the latest published version as a diff, the publish button (the next
version, with who and when), and the history of versions, each with its diff to the one before."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from catalog.server.errors import AtlasError
from catalog.server.policies import Version
from catalog.server.users import Principal
from catalog.ui.data import rule_summary
from catalog.ui.pages.schema import domain_of
from catalog.ui.risk import risk_of
from catalog.ui.web import back, checked_form, context, page_user, render, steward
from deid.policy import PolicyChange, diff_policies

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class VersionEntry:
    version: Version
    changes: list[PolicyChange]


@router.get("/policies/{name}")
def policy_page(request: Request, name: str, principal: Principal = Depends(page_user)) -> Response:
    domain = domain_of(request, name)
    policies = context(request).policies
    draft = policies.get_draft(domain.name)
    versions = policies.versions(domain.name)
    latest = versions[-1] if versions else None
    pending = diff_policies(latest.policy if latest else None, draft.policy) if draft else []
    history = []
    for index, version in enumerate(versions):
        before = versions[index - 1].policy if index else None
        history.append(VersionEntry(version, diff_policies(before, version.policy)))
    return render(
        request,
        "policy.html",
        principal,
        risk=risk_of(request, domain),
        domain=domain,
        draft=draft,
        latest=latest,
        pending=pending,
        history=list(reversed(history)),
        rule_summary=_summary,
    )


def _summary(value: object) -> str:
    if isinstance(value, dict) and ("treatment" in value or "with_consent" in value):
        return rule_summary(value)
    if isinstance(value, dict):
        rules = value.get("rules")
        settings = ", ".join(f"{k}={v}" for k, v in value.items() if k not in ("rules", "name"))
        return settings + (f"; {len(rules)} rule(s)" if isinstance(rules, dict) else "")
    return "" if value is None else str(value)


@router.post("/policies/{name}/publish")
def publish(
    request: Request,
    name: str,
    form: FormData = Depends(checked_form),
    principal: Principal = Depends(steward),
) -> Response:
    domain = domain_of(request, name)
    target = f"/policies/{domain.name}"
    try:
        published = context(request).policies.publish(domain.name, principal.name)
    except AtlasError as exc:
        return back(request, target, f"Not published: {exc.message}")
    if not published.changed:
        return back(request, target, f"Nothing to publish: the draft equals version {published.policy.version}.")
    return back(request, target, f"Published version {published.policy.version}.")
