"""The PII tags of a topic's fields, read in-process in the caller's transaction (publish validation).

Same rule as everywhere (`catalog.tags.effective_tag`): a field whose effective tag is not NON_PII
holds personal data, whether a steward confirmed it or inference only suggested it (fail closed).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.store.repository import ClassificationRepo, loads
from catalog.store.tables import EntityRow
from catalog.tags import effective_tag


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pii_fields(session: Session, topic: str, cluster: str) -> dict[str, str]:
    """Field path → entity for each `avro_field` of `topic` whose effective tag is PII."""
    prefix, suffix = f"{topic}.", f"@{cluster}"
    query = select(EntityRow.guid, EntityRow.qualified_name).where(
        EntityRow.type_name == "avro_field",
        EntityRow.status == "ACTIVE",
        EntityRow.qualified_name.like(f"{_like_escape(prefix)}%{_like_escape(suffix)}", escape="\\"),
    )
    paths = {
        guid: name[len(prefix) : -len(suffix)]
        for guid, name in session.execute(query)
        if name.startswith(prefix) and name.endswith(suffix)
    }
    rows = ClassificationRepo(session).of_entities(paths)
    found = {}
    for guid, path in paths.items():
        tag = effective_tag({"typeName": r.type_name, "attributes": loads(r.attributes) or {}} for r in rows[guid])
        if tag.is_pii:
            found[path] = tag.entity
    return dict(sorted(found.items()))
