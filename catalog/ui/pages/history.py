"""Field history: who changed a field's tag or rule, when, from what to what."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from catalog.server.users import Principal
from catalog.ui.history import field_events
from catalog.ui.pages.schema import domain_of, field_row
from catalog.ui.web import context, page_user, render

router = APIRouter(include_in_schema=False)


@router.get("/topics/{name}/fields/{path}/history")
def field_history(request: Request, name: str, path: str, principal: Principal = Depends(page_user)) -> Response:
    domain = domain_of(request, name)
    row = field_row(request, domain, path)
    ctx = context(request)
    policies = ctx.policies
    numbers = [version.policy.version for version in policies.versions(domain.name)]
    names = [(n, policies.version_name(domain.name, n)) for n in numbers]
    with ctx.store.read() as session:
        events = field_events(session, row.guid, policies.draft_name(domain.name), names, path)
    return render(request, "history.html", principal, domain=domain, row=row, events=events)
