"""Audit events as Atlas renders them per entity (EntityAuditEventV2) and as deid's feed."""

from __future__ import annotations

import json
from typing import Any

from catalog.store.repository import loads
from catalog.store.tables import AuditRow

# Atlas's `details` prefix per action; the JSON after it is the entity or classification after the change.
_VERBS = {
    "ENTITY_CREATE": "Created",
    "ENTITY_UPDATE": "Updated",
    "ENTITY_DELETE": "Deleted",
    "CLASSIFICATION_ADD": "Added classification",
    "CLASSIFICATION_UPDATE": "Updated classification",
    "CLASSIFICATION_DELETE": "Deleted classification",
}


def event_key(row: AuditRow) -> str:
    return f"{row.entity_guid}:{row.timestamp}:{row.id}"


def event_id_from_key(key: str) -> int | None:
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def entity_audit_event(row: AuditRow) -> dict[str, Any]:
    before, after, details = loads(row.before_state), loads(row.after_state), loads(row.details)
    verb = _VERBS.get(row.action, row.action.replace("_", " ").capitalize())
    subject = after if after is not None else before if before is not None else details
    return {
        "entityId": row.entity_guid,
        "timestamp": row.timestamp,
        "user": row.user_name,
        "action": row.action,
        "details": f"{verb}: {json.dumps(subject, separators=(',', ':'))}",
        "eventKey": event_key(row),
        "entity": None,
        "type": "ENTITY_AUDIT_V2",
        "typeName": row.type_name,
        "before": before,
        "after": after,
    }


def feed_event(row: AuditRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "timestamp": row.timestamp,
        "user": row.user_name,
        "action": row.action,
        "entityGuid": row.entity_guid,
        "typeName": row.type_name,
        "details": loads(row.details),
        "before": loads(row.before_state),
        "after": loads(row.after_state),
    }
