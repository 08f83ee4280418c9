"""Lineage: raw topic → deid_pipeline → anonymised topic (and purpose topics), drawn as SVG with the
policy version each pipeline runs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from catalog.server.users import Principal
from catalog.ui.pages.overview import all_topics
from catalog.ui.svg import lineage_drawing
from catalog.ui.web import context, page_user, render

router = APIRouter(include_in_schema=False)


@router.get("/lineage")
def lineage(request: Request, principal: Principal = Depends(page_user)) -> Response:
    topics = all_topics(request)
    policies = context(request).policies
    purposes: dict[str, list[str]] = {}
    for topic in topics:
        latest = policies.latest(topic.domain.name)
        if latest is not None:
            purposes[topic.domain.name] = [latest.policy.purpose_topic(p) for p in latest.policy.purposes]
    drawing = lineage_drawing(topics, purposes)
    return render(request, "lineage.html", principal, topics=topics, drawing=drawing)
