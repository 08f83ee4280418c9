"""Schema review of one topic: a row per field (type, effective tag, confidence, evidence, status,
treatment) and a steward's decisions on it: confirm, reject (→ NON_PII), change the entity, pick a
treatment with its parameters, add a note, bulk-confirm suggestions above a confidence."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from catalog.server.errors import AtlasError
from catalog.server.users import Principal
from catalog.ui.data import CatalogView, FieldRow, rule_summary, safe_examples
from catalog.ui.decisions import FieldDecisions
from catalog.ui.params import param_choices, param_kind, rule_from_form
from catalog.ui.web import UIError, back, checked_form, context, page_user, render, steward
from deid.domains import Domain, DomainError
from deid.errors import DeidError
from deid.tags import NON_PII

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def domain_of(request: Request, name: str) -> Domain:
    try:
        return context(request).domains.get(name)
    except DomainError:
        raise UIError(404, f"No domain {name!r} in the registry.") from None


def topic_url(domain: str, **query: str) -> str:
    suffix = "&".join(f"{k}={quote(v)}" for k, v in query.items() if v)
    return f"/topics/{quote(domain)}" + (f"?{suffix}" if suffix else "")


def field_row(request: Request, domain: Domain, path: str) -> FieldRow:
    ctx = context(request)
    with ctx.store.read() as session:
        rows = CatalogView(ctx, session).fields(domain, ctx.policies.get_draft(domain.name))
    for row in rows:
        if row.path == path:
            return row
    raise UIError(404, f"No field {path!r} in topic {domain.raw_topic}.")


@router.get("/topics/{name}")
def schema_review(request: Request, name: str, filter: str = "", principal: Principal = Depends(page_user)) -> Response:
    domain = domain_of(request, name)
    ctx = context(request)
    with ctx.store.read() as session:
        view = CatalogView(ctx, session)
        topic = view.topic(domain)
        choices = view.entity_choices()
    rows = [f for f in topic.fields if f.needs_review] if filter == "review" else topic.fields
    return render(
        request,
        "schema.html",
        principal,
        topic=topic,
        rows=rows,
        filter=filter,
        choices=choices,
        rule_summary=rule_summary,
        examples=safe_examples,
        param_kind=param_kind,
        param_choices=param_choices,
    )


def _guarded(request: Request, domain: Domain, message: str, action: Any, view: str = "") -> Response:
    """Run a steward action; its failure (bad parameter, unknown entity, …) comes back as the page message."""
    target = topic_url(domain.name, filter="review" if view == "review" else "")
    try:
        action()
    except (AtlasError, DeidError) as exc:
        text = exc.message if isinstance(exc, AtlasError) else str(exc)
        return back(request, target, f"Not saved: {text}")
    return back(request, target, message)


@router.post("/topics/{name}/fields/{path}/decide")
def decide(
    request: Request,
    name: str,
    path: str,
    form: FormData = Depends(checked_form),
    principal: Principal = Depends(steward),
) -> Response:
    domain = domain_of(request, name)
    row = field_row(request, domain, path)
    if row.guid is None:
        raise UIError(404, f"Field {path!r} has not been inferred yet: nothing to review.")
    decisions = FieldDecisions(context(request), domain, principal.name)
    action, note, view = str(form.get("action") or ""), str(form.get("note") or ""), str(form.get("view") or "")
    if action == "confirm":
        return _guarded(
            request, domain, f"{path}: {row.tag.entity} confirmed.", lambda: decisions.confirm(row.guid, note), view
        )
    if action == "reject":
        return _guarded(
            request,
            domain,
            f"{path}: rejected {row.tag.entity}; now NON_PII, kept as is.",
            lambda: decisions.reject(row.guid, path, note),
            view,
        )
    if action == "retag":
        entity = str(form.get("entity") or "")
        return _guarded(
            request,
            domain,
            f"{path}: tagged {entity}" + ("; kept as is." if entity == NON_PII else "."),
            lambda: decisions.retag(row.guid, path, entity, note),
            view,
        )
    if action == "note":
        return _guarded(request, domain, f"{path}: note saved.", lambda: decisions.annotate(row.guid, note), view)
    raise UIError(400, f"Unknown action {action!r}: use confirm, reject, retag or note.")


@router.post("/topics/{name}/fields/{path}/treatment")
def set_treatment(
    request: Request,
    name: str,
    path: str,
    form: FormData = Depends(checked_form),
    principal: Principal = Depends(steward),
) -> Response:
    domain = domain_of(request, name)
    row = field_row(request, domain, path)
    if not row.allowed:
        raise UIError(400, f"Field {path!r} is not a field of domain {domain.name!r}; it cannot have a rule.")

    def run() -> None:
        rule = rule_from_form(form, row)
        context(request).policies.set_rule(domain.name, path, rule, principal.name)

    view = str(form.get("view") or "")
    return _guarded(request, domain, f"{path}: treatment set in the draft policy.", run, view)


@router.post("/topics/{name}/confirm-suggestions")
def confirm_suggestions(
    request: Request,
    name: str,
    form: FormData = Depends(checked_form),
    principal: Principal = Depends(steward),
) -> Response:
    domain = domain_of(request, name)
    try:
        threshold = float(str(form.get("min_confidence") or ""))
    except ValueError:
        raise UIError(400, "min_confidence: give a number between 0 and 1.") from None
    if not 0 <= threshold <= 1:
        raise UIError(400, "min_confidence: give a number between 0 and 1.")
    ctx = context(request)
    with ctx.store.read() as session:
        rows = CatalogView(ctx, session).fields(domain, None)
    guids = [r.guid for r in rows if r.guid is not None]
    confirmed = FieldDecisions(ctx, domain, principal.name).confirm_above(guids, threshold)
    return back(request, topic_url(domain.name), f"Confirmed {confirmed} suggestion(s) at confidence ≥ {threshold:g}.")
