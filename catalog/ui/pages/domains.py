"""Domains: every domain the catalog holds, read-only, with its fields, topics and who created and last
changed it, when (changes go through `deid domains add|import` or the API, each audited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from catalog.server.users import Principal
from catalog.ui.web import context, page_user, render

router = APIRouter(include_in_schema=False)


@router.get("/domains")
def domains_page(request: Request, principal: Principal = Depends(page_user)) -> Response:
    return render(request, "domains.html", principal, entries=context(request).domains.entries())
