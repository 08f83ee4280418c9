"""Topics overview: every domain's raw topic with schema version, fields, PII, fields awaiting review,
published policy version, pipeline status, and a chart of PII coverage."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from catalog.server.users import Principal
from catalog.ui.data import CatalogView, Topic
from catalog.ui.svg import coverage_chart
from catalog.ui.web import context, page_user, render

router = APIRouter(include_in_schema=False)


def all_topics(request: Request) -> list[Topic]:
    ctx = context(request)
    with ctx.store.read() as session:
        view = CatalogView(ctx, session)
        return [view.topic(domain) for domain in ctx.domains.registry()]


@router.get("/")
def overview(request: Request, principal: Principal = Depends(page_user)) -> Response:
    topics = all_topics(request)
    return render(request, "overview.html", principal, topics=topics, chart=coverage_chart(topics))
