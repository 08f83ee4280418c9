"""A field's history from the audit trail: its tag decisions (classification events on its avro_field),
the changes of its rule in the draft policy, and the published versions that changed its rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from catalog.store.repository import AuditRepo, EntityRepo, loads
from catalog.ui.data import rule_summary
from deid.tags import POLICY_TYPE

_LIMIT = 500


@dataclass(frozen=True)
class Event:
    timestamp: int
    user: str
    action: str
    subject: str
    before: str
    after: str


def _tag(snapshot: Any) -> str:
    if not isinstance(snapshot, dict):
        return ""
    attributes = snapshot.get("attributes") or {}
    parts = [str(attributes.get("status") or "")]
    if attributes.get("source"):
        parts.append(str(attributes["source"]))
    if attributes.get("confidence") is not None:
        parts.append(f"{float(attributes['confidence']):.2f}")
    text = f"{snapshot.get('typeName')}: " + ", ".join(p for p in parts if p)
    if attributes.get("note"):
        text += f" — note: {attributes['note']}"
    return text


def _rule_at(snapshot: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(snapshot, dict):
        return None
    rules = (snapshot.get("attributes") or {}).get("rules")
    try:
        document = json.loads(rules) if isinstance(rules, str) else None
    except ValueError:
        return None
    return (document or {}).get("rules", {}).get(path)


def field_events(
    session: Session, field_guid: str | None, draft_name: str, versions: list[tuple[int, str]], path: str
) -> list[Event]:
    """Newest first. `versions`: (number, qualifiedName) of the published versions, oldest first."""
    audit = AuditRepo(session)
    events: list[Event] = []
    if field_guid is not None:
        for row in audit.for_entity(field_guid, action=None, before_id=None, offset=0, count=_LIMIT, newest_first=True):
            before, after = loads(row.before_state), loads(row.after_state)
            if row.action.startswith("CLASSIFICATION_"):
                subject = f"tag {row.type_name}"
                events.append(Event(row.timestamp, row.user_name, row.action, subject, _tag(before), _tag(after)))
            elif row.action in ("ENTITY_CREATE", "ENTITY_UPDATE", "ENTITY_DELETE"):
                events.append(Event(row.timestamp, row.user_name, row.action, "field", "", ""))
    entities = EntityRepo(session)
    draft = entities.by_qualified_name([POLICY_TYPE], draft_name)
    if draft is not None:
        for row in audit.for_entity(draft.guid, action=None, before_id=None, offset=0, count=_LIMIT, newest_first=True):
            was, now = _rule_at(loads(row.before_state), path), _rule_at(loads(row.after_state), path)
            if was != now:
                events.append(
                    Event(
                        row.timestamp,
                        row.user_name,
                        "DRAFT_RULE",
                        "draft policy rule",
                        rule_summary(was) if was else "",
                        rule_summary(now),
                    )
                )
    previous: dict[str, Any] | None = None
    for number, name in versions:
        record = entities.by_qualified_name([POLICY_TYPE], name)
        if record is None:
            continue
        rule = _rule_at({"attributes": record.attributes}, path)
        if rule != previous:
            who = str(record.attributes.get("publishedBy") or record.row.created_by)
            when = int(record.attributes.get("publishedAt") or record.row.create_time)
            before = rule_summary(previous) if previous else ""
            events.append(Event(when, who, "POLICY_PUBLISH", f"published v{number}", before, rule_summary(rule)))
        previous = rule
    return sorted(events, key=lambda e: e.timestamp, reverse=True)
