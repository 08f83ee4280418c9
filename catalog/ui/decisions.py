"""A steward's decisions on a field's tag, written through the catalog's own classification operations
(so the steward rule and the audit apply exactly as for the API) and, where a decision implies a
treatment, through the policy service's `set_rule` (audited too).

- confirm: the effective tag becomes `confirmed` (a field with no tag at all is confirmed NON_PII);
- reject: every live PII tag of the field is rejected, NON_PII confirmed, and the draft rule set to keep;
- retag: the steward's entity is confirmed, every other live tag rejected, the draft rule set to the
  entity's default treatment (the steward can then pick another);
- note: the steward's note on the effective tag.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from catalog.server.classifications import ClassificationOps
from catalog.server.context import CatalogContext
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasClassification
from catalog.server.views import EntityReader, render_classification
from catalog.tags import effective_tag
from deid.domains import Domain
from deid.policy import default_rule
from deid.tags import FREE_TEXT, NON_PII

STEWARD = "steward"
MAX_NOTE = 500


def _note(note: str | None) -> dict[str, Any]:
    note = (note or "").strip()
    return {"note": note[:MAX_NOTE]} if note else {}


class FieldDecisions:
    def __init__(self, ctx: CatalogContext, domain: Domain, user: str) -> None:
        self.ctx = ctx
        self.domain = domain
        self.user = user

    def _on_field(self, guid: str, fn: Any) -> Any:
        def run(session: Session) -> Any:
            registry = self.ctx.types.registry(session)
            record = EntityReader(session, registry).require(guid)
            if record.row.type_name != "avro_field" or record.row.status != "ACTIVE":
                raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
            ops = ClassificationOps(session, registry, self.user)
            current = [render_classification(row, "ACTIVE", registry) for row in ops.repo.of_entity(guid)]
            return fn(ops, record, current)

        return self.ctx.store.write(run)

    @staticmethod
    def _set(ops: ClassificationOps, record: Any, type_name: str, attributes: dict[str, Any]) -> None:
        ops.upsert(record, AtlasClassification(typeName=type_name, attributes=attributes))

    def confirm(self, guid: str, note: str | None = None) -> str:
        def run(ops: ClassificationOps, record: Any, current: list[dict[str, Any]]) -> str:
            tag = effective_tag(current)
            if tag.status == "none":
                self._set(ops, record, NON_PII, {"source": STEWARD, "status": "confirmed", **_note(note)})
            else:
                self._set(ops, record, tag.entity, {"status": "confirmed", **_note(note)})
            return tag.entity

        return self._on_field(guid, run)

    def confirm_above(self, guids: list[str], min_confidence: float) -> int:
        """Confirm each field's suggested tag whose confidence is at least `min_confidence`; how many."""

        def run(session: Session) -> int:
            registry = self.ctx.types.registry(session)
            reader = EntityReader(session, registry)
            ops = ClassificationOps(session, registry, self.user)
            confirmed = 0
            for guid in guids:
                record = reader.require(guid)
                current = [render_classification(row, "ACTIVE", registry) for row in ops.repo.of_entity(guid)]
                tag = effective_tag(current)
                if tag.status == "suggested" and tag.confidence >= min_confidence:
                    self._set(ops, record, tag.entity, {"status": "confirmed"})
                    confirmed += 1
            return confirmed

        return self.ctx.store.write(run)

    def reject(self, guid: str, path: str, note: str | None = None) -> None:
        """Not personal data: reject the PII tags, confirm NON_PII, keep the field unchanged."""

        def run(ops: ClassificationOps, record: Any, current: list[dict[str, Any]]) -> None:
            for item in current:
                status = (item.get("attributes") or {}).get("status")
                if item["typeName"] != NON_PII and status != "rejected":
                    self._set(ops, record, item["typeName"], {"source": STEWARD, "status": "rejected", **_note(note)})
            self._set(ops, record, NON_PII, {"source": STEWARD, "status": "confirmed", **_note(note)})

        self._on_field(guid, run)
        if path in self.domain.fields:
            self.ctx.policies.set_rule(self.domain.name, path, {"treatment": "keep"}, self.user)

    def retag(self, guid: str, path: str, entity: str, note: str | None = None) -> None:
        if entity == NON_PII:
            self.reject(guid, path, note)
            return
        entities: list[str] = []

        def run(ops: ClassificationOps, record: Any, current: list[dict[str, Any]]) -> None:
            if ops.registry.classification_type(entity) is None:
                raise AtlasError(Code.CLASSIFICATION_NOT_FOUND, entity)
            for item in current:
                status = (item.get("attributes") or {}).get("status")
                if item["typeName"] != entity and status != "rejected":
                    self._set(ops, record, item["typeName"], {"source": STEWARD, "status": "rejected"})
            attributes: dict[str, Any] = {"source": STEWARD, "status": "confirmed", **_note(note)}
            if entity == FREE_TEXT:
                shares = effective_tag(current).evidence.get("entity_shares") or {}
                entities.extend(sorted(str(name) for name in shares))
                attributes["entities"] = entities
            self._set(ops, record, entity, attributes)

        self._on_field(guid, run)
        spec = self.domain.fields.get(path)
        if spec is not None:
            rule = default_rule(entity, spec, self.domain, entities if entity == FREE_TEXT else None)
            self.ctx.policies.set_rule(self.domain.name, path, rule.model_dump(mode="json"), self.user)

    def annotate(self, guid: str, note: str) -> None:
        def run(ops: ClassificationOps, record: Any, current: list[dict[str, Any]]) -> None:
            tag = effective_tag(current)
            if tag.status == "none":
                self._set(ops, record, NON_PII, {"source": STEWARD, "status": "suggested", "note": note[:MAX_NOTE]})
            else:
                self._set(ops, record, tag.entity, {"note": note.strip()[:MAX_NOTE]})

        self._on_field(guid, run)
