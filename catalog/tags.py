"""A field's effective PII tag: the one rule that turns a field's classifications into one entity.

A field may carry several classifications: inference's suggestions (one per entity it found over the
runs), a steward's confirmation or their own entity, rejections. The effective tag is:
1. a confirmed classification (a steward's decision, or a suggestion a steward confirmed), the most
   recent steward-sourced one first, then the most confident;
2. else the suggested one with the highest confidence;
3. rejected ones never count; nothing left → `NON_PII`.
`NON_PII` and `FREE_TEXT` are tags like the others; `FREE_TEXT` carries the entities found inside.
The UI, `deid policy` and inference's summary all use this function, so they agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deid.tags import FREE_TEXT, NON_PII

__all__ = ["FREE_TEXT", "NON_PII", "EffectiveTag", "effective_tag", "parse_evidence"]


@dataclass(frozen=True)
class EffectiveTag:
    entity: str
    status: str = "suggested"  # suggested | confirmed | none (nothing but rejections or no tag at all)
    source: str = "detected"
    confidence: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)  # FREE_TEXT: the entities found inside the text
    note: str = ""

    @property
    def is_pii(self) -> bool:
        return self.entity != NON_PII

    @property
    def needs_review(self) -> bool:
        return self.status == "suggested"


def _attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return dict(item.get("attributes") or {})


def parse_evidence(value: Any) -> dict[str, Any]:
    """Evidence is stored as a JSON string; a malformed one reads as empty rather than failing a page."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _confidence(attributes: Mapping[str, Any]) -> float:
    try:
        return float(attributes.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def effective_tag(classifications: Iterable[Mapping[str, Any]]) -> EffectiveTag:
    """The field's tag from its classifications (Atlas JSON: `{"typeName", "attributes"}`)."""
    candidates = [(item["typeName"], _attributes(item)) for item in classifications if item.get("typeName")]
    live = [(name, attrs) for name, attrs in candidates if attrs.get("status") != "rejected"]
    confirmed = [c for c in live if c[1].get("status") == "confirmed"]
    pool = confirmed or live
    if not pool:
        return EffectiveTag(NON_PII, status="none", source="steward" if candidates else "detected")
    name, attrs = max(pool, key=lambda c: (c[1].get("source") == "steward", _confidence(c[1]), c[0]))
    entities = attrs.get("entities") or []
    return EffectiveTag(
        entity=name,
        status="confirmed" if confirmed else "suggested",
        source=str(attrs.get("source") or "detected"),
        confidence=_confidence(attrs),
        evidence=parse_evidence(attrs.get("evidence")),
        entities=sorted(str(e) for e in entities) if isinstance(entities, list) else [],
        note=str(attrs.get("note") or ""),
    )
