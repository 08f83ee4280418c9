"""Classifications on entities: add, update, remove, with validation, audit, and the steward rule.

The steward rule (docs/architecture.md, "The catalog model": re-running inference "never overwrites a
steward's decision"): an update whose `source` is `detected` on a classification whose `status` is
`confirmed` or `rejected` keeps every attribute the steward set and only takes the new `evidence`. The
rule is enforced here, so it holds for every client and every path (PUT classifications, entity upserts
carrying classifications, bulk classification).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasClassification
from catalog.server.typesystem import TypeRegistry
from catalog.server.views import render_classification
from catalog.store.repository import AuditRepo, ClassificationRepo, EntityRecord, dumps, loads
from catalog.store.tables import ClassificationRow

STEWARD_DECIDED = frozenset({"confirmed", "rejected"})
# Attributes a detection may refresh on a classification a steward decided.
DETECTION_REFRESHABLE = ("evidence",)


def merge_update(existing: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Attributes after an update: given keys replace stored ones, except under the steward rule."""
    if incoming.get("source") == "detected" and existing.get("status") in STEWARD_DECIDED:
        merged = dict(existing)
        for key in DETECTION_REFRESHABLE:
            if key in incoming:
                merged[key] = incoming[key]
        return merged
    return {**existing, **incoming}


class ClassificationOps:
    """Classification writes inside one transaction, on behalf of `user`."""

    def __init__(self, session: Session, registry: TypeRegistry, user: str) -> None:
        self.session = session
        self.registry = registry
        self.user = user
        self.repo = ClassificationRepo(session)
        self.audit = AuditRepo(session)

    def _checked(self, entity: EntityRecord, classification: AtlasClassification, *, partial: bool) -> dict[str, Any]:
        info = self.registry.classification_type(classification.typeName)
        if info is None:
            raise AtlasError(Code.CLASSIFICATION_NOT_FOUND, classification.typeName)
        restrictions = set(info.definition.get("entityTypes") or [])
        for parent in info.all_super_types:
            restrictions |= set(self.registry.get(parent).get("entityTypes") or [])  # type: ignore[union-attr]
        if restrictions and not any(self.registry.is_a(entity.row.type_name, t) for t in restrictions):
            raise AtlasError(
                Code.INVALID_ENTITY_FOR_CLASSIFICATION, entity.guid, entity.row.type_name, classification.typeName
            )
        return self.registry.check_attributes(
            info, classification.attributes or {}, classification.typeName, partial=partial
        )

    def _snapshot(self, row: ClassificationRow) -> dict[str, Any]:
        return {"typeName": row.type_name, "attributes": loads(row.attributes), "propagate": row.propagate}

    def add(self, entity: EntityRecord, classification: AtlasClassification) -> None:
        attributes = self._checked(entity, classification, partial=False)
        if self.repo.get(entity.guid, classification.typeName) is not None:
            raise AtlasError(Code.CLASSIFICATION_ALREADY_ASSOCIATED, entity.guid, classification.typeName)
        self.repo.add(
            entity.guid,
            classification.typeName,
            attributes,
            propagate=bool(classification.propagate),
            remove=classification.removePropagationsOnEntityDelete is not False,
        )
        self.audit.record(
            self.user,
            "CLASSIFICATION_ADD",
            entity_guid=entity.guid,
            type_name=classification.typeName,
            after={"typeName": classification.typeName, "attributes": attributes},
        )

    def update(self, entity: EntityRecord, classification: AtlasClassification) -> bool:
        """Update an associated classification; True when something changed."""
        row = self.repo.get(entity.guid, classification.typeName)
        if row is None:
            raise AtlasError(Code.CLASSIFICATION_NOT_ASSOCIATED_WITH_ENTITY, classification.typeName)
        incoming = self._checked(entity, classification, partial=True)
        before = self._snapshot(row)
        merged = merge_update(before["attributes"] or {}, incoming)
        info = self.registry.classification_type(classification.typeName)
        assert info is not None
        self.registry.check_mandatory(info, merged)
        propagate = row.propagate if classification.propagate is None else classification.propagate
        if merged == before["attributes"] and propagate == row.propagate:
            return False
        row.attributes = dumps(merged)
        row.propagate = propagate
        self.session.flush()
        self.audit.record(
            self.user,
            "CLASSIFICATION_UPDATE",
            entity_guid=entity.guid,
            type_name=classification.typeName,
            before=before,
            after=self._snapshot(row),
        )
        return True

    def upsert(self, entity: EntityRecord, classification: AtlasClassification) -> None:
        if self.repo.get(entity.guid, classification.typeName) is None:
            self.add(entity, classification)
        else:
            self.update(entity, classification)

    def remove(self, entity: EntityRecord, type_name: str) -> None:
        row = self.repo.get(entity.guid, type_name)
        if row is None:
            raise AtlasError(Code.CLASSIFICATION_NOT_ASSOCIATED_WITH_ENTITY, type_name)
        before = self._snapshot(row)
        self.repo.delete(row)
        self.audit.record(
            self.user, "CLASSIFICATION_DELETE", entity_guid=entity.guid, type_name=type_name, before=before
        )

    def replace_all(self, entity: EntityRecord, classifications: list[AtlasClassification]) -> None:
        """Upsert the given ones and remove every other (Atlas's replaceClassifications)."""
        wanted = {c.typeName for c in classifications}
        for row in self.repo.of_entity(entity.guid):
            if row.type_name not in wanted:
                self.remove(entity, row.type_name)
        for classification in classifications:
            self.upsert(entity, classification)

    def listing(self, entity: EntityRecord) -> dict[str, Any]:
        rows = self.repo.of_entity(entity.guid)
        items = [render_classification(row, entity.row.status, self.registry) for row in rows]
        return {"list": items, "startIndex": 0, "pageSize": len(items), "totalCount": len(items), "sortType": "NONE"}
