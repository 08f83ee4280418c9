"""The re-identification risk a domain's worker last reported (its `deid_pipeline`'s `riskReport`), for
the policy page: min k against the target, the share of records below it, the class sizes."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from catalog.store.repository import EntityRepo
from catalog.ui.web import context
from deid.domains import Domain
from deid.tags import PIPELINE_TYPE


def risk_of(request: Request, domain: Domain) -> dict[str, Any] | None:
    """The report as a dict (None: no worker has reported one, or the domain names no quasi-identifiers)."""
    ctx = context(request)
    name = f"deid-pipeline-{domain.name}@{ctx.settings.cluster}"
    with ctx.store.read() as session:
        record = EntityRepo(session).by_qualified_name([PIPELINE_TYPE], name)
    raw = record.attributes.get("riskReport") if record is not None else None
    try:
        report = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return report if isinstance(report, dict) and "min_k" in report else None
