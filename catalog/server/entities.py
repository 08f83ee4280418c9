"""Entity writes: create-or-update by unique attributes (Atlas's POST /entity and /entity/bulk), partial
updates, soft deletes. One request is one transaction; it is retried from the start when it loses an
upsert race (see `catalog.store.db.Store.write`), so two writers of the same qualifiedName end with
one entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.classifications import ClassificationOps
from catalog.server.edge_index import EdgeIndex
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasEntity
from catalog.server.typesystem import RelationshipEnd, StructuredType, TypeRegistry
from catalog.server.views import EntityReader, is_placeholder
from catalog.store.repository import AuditRepo, EntityRecord, EntityRepo, RelationshipRepo, new_guid

# Fits a PostgreSQL btree index entry with room to spare.
MAX_QUALIFIED_NAME = 1024


@dataclass
class _Planned:
    """One incoming entity and what it resolved to."""

    incoming: AtlasEntity
    info: StructuredType
    guid: str
    existing: EntityRecord | None
    record: EntityRecord | None = None
    references: dict[str, list[str]] = field(default_factory=dict)  # relationship attribute -> target guids
    changed: bool = False
    before: dict[str, Any] | None = None


@dataclass
class MutationResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    partially_updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    purged: list[dict[str, Any]] = field(default_factory=list)  # headers, rendered before the rows go
    records: dict[str, EntityRecord] = field(default_factory=dict)  # what the write holds: no re-read to render
    guid_assignments: dict[str, str] = field(default_factory=dict)

    def render(self, reader: EntityReader) -> dict[str, Any]:
        # The write has flushed; autoflush would scan every object of the session before each query.
        with reader.session.no_autoflush:
            return self._render(reader)

    def _render(self, reader: EntityReader) -> dict[str, Any]:
        mutated: dict[str, list[dict[str, Any]]] = {}
        for key, guids in (
            ("CREATE", self.created),
            ("UPDATE", self.updated),
            ("PARTIAL_UPDATE", self.partially_updated),
            ("DELETE", self.deleted),
        ):
            if guids:
                records = {g: self.records[g] for g in guids if g in self.records}
                records.update(reader.entities.get_many(g for g in guids if g not in records))
                mutated[key] = reader.headers([records[g] for g in guids if g in records])
        if self.purged:
            mutated["PURGE"] = self.purged
        return {"mutatedEntities": mutated, "guidAssignments": self.guid_assignments}


def _snapshot(record: EntityRecord, references: dict[str, list[str]] | None = None) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "typeName": record.row.type_name,
        "status": record.row.status,
        "attributes": dict(record.attributes),
    }
    if references:
        snapshot["relationshipAttributes"] = references
    return snapshot


class EntityWriter:
    """Entity mutations inside one transaction, on behalf of `user`."""

    def __init__(self, session: Session, registry: TypeRegistry, user: str) -> None:
        self.session = session
        self.registry = registry
        self.user = user
        self.entities = EntityRepo(session)
        self.relationships = RelationshipRepo(session)
        self.audit = AuditRepo(session)
        self.classifications = ClassificationOps(session, registry, user)
        self.reader = EntityReader(session, registry)
        self.edges = EdgeIndex(session, user)
        # Per write: plans by guid and by (type, qualifiedName), stored entities fetched by guid.
        self._plans: list[_Planned] = []
        self._by_guid: dict[str, list[_Planned]] = {}
        self._by_key: dict[tuple[str, str], _Planned] = {}
        self._stored: dict[str, EntityRecord | None] = {}
        self._assignments: dict[str, str] = {}

    # -- create or update -------------------------------------------------------------------------------

    def upsert(
        self,
        entities: list[AtlasEntity],
        referred: dict[str, AtlasEntity] | None = None,
        *,
        partial: bool = False,
        replace_classifications: bool = False,
    ) -> MutationResult:
        incoming = list(entities)
        for key, entity in (referred or {}).items():
            if entity.guid is None:
                entity = entity.model_copy(update={"guid": key})
            incoming.append(entity)
        if not incoming:
            raise AtlasError(Code.INVALID_PARAMETERS, "no entities given")
        result = MutationResult()
        plans = self._resolve(incoming, result)
        for plan in plans:
            self._apply_attributes(plan)
        self.session.flush()  # every new row at once; a concurrent twin fails here (the write is retried)
        by_guid = {plan.guid: plan for plan in plans}
        self.edges.mark_new(plan.guid for plan in plans if plan.existing is None)
        self.edges.load(plan.guid for plan in plans if plan.existing is not None)
        for plan in plans:
            self._apply_references(plan, by_guid)
        for plan in plans:
            self._apply_classifications(plan, replace_classifications)
        seen: set[str] = set()
        for plan in plans:
            if plan.guid in seen:
                continue
            seen.add(plan.guid)
            assert plan.record is not None
            result.records[plan.guid] = plan.record
            if plan.existing is None:
                result.created.append(plan.guid)
                self.audit.record(
                    self.user,
                    "ENTITY_CREATE",
                    entity_guid=plan.guid,
                    type_name=plan.info.name,
                    after=_snapshot(plan.record, plan.references),
                    flush=False,
                )
            elif plan.changed:
                (result.partially_updated if partial else result.updated).append(plan.guid)
                self.audit.record(
                    self.user,
                    "ENTITY_UPDATE",
                    entity_guid=plan.guid,
                    type_name=plan.info.name,
                    before=plan.before,
                    after=_snapshot(plan.record, plan.references),
                    flush=False,
                )
        self.session.flush()
        return result

    def _prefetch(self, incoming: list[AtlasEntity]) -> dict[tuple[str, str], EntityRecord]:
        """Stored entities the write names by guid or (type, qualifiedName): a few queries, not one each."""
        guids = [e.guid for e in incoming if e.guid and not is_placeholder(e.guid)]
        found = self.entities.get_many(guids, for_update=True)
        self._stored.update({guid: found.get(guid) for guid in guids})
        names: dict[str, list[str]] = {}
        for entity in incoming:
            qualified_name = (entity.attributes or {}).get("qualifiedName")
            if qualified_name is not None:
                names.setdefault(entity.typeName, []).append(str(qualified_name))
        by_key: dict[tuple[str, str], EntityRecord] = {}
        for type_name, qualified_names in names.items():
            for name, record in self.entities.by_qualified_names(type_name, qualified_names, for_update=True).items():
                by_key[(type_name, name)] = record
        return by_key

    def _resolve(self, incoming: list[AtlasEntity], result: MutationResult) -> list[_Planned]:
        plans: list[_Planned] = []
        new_by_key: dict[tuple[str, str], _Planned] = {}
        for entity in incoming:
            if self.registry.entity_type(entity.typeName) is None:
                raise AtlasError(Code.TYPE_NAME_INVALID, "ENTITY", entity.typeName)
        stored_by_key = self._prefetch(incoming)
        for entity in incoming:
            info = self.registry.entity_type(entity.typeName)
            assert info is not None
            existing = None
            if entity.guid and not is_placeholder(entity.guid):
                existing = self._stored.get(entity.guid)
                if existing is not None and existing.row.type_name != entity.typeName:
                    raise AtlasError(Code.TYPE_MATCH_FAILED, entity.typeName, existing.row.type_name)
            qualified_name = (entity.attributes or {}).get("qualifiedName")
            if qualified_name is not None and len(str(qualified_name)) > MAX_QUALIFIED_NAME:
                raise AtlasError(
                    Code.INVALID_VALUE, f"{entity.typeName}.qualifiedName: longer than {MAX_QUALIFIED_NAME}"
                )
            key = (entity.typeName, str(qualified_name)) if qualified_name is not None else None
            if existing is None and key is not None and key in new_by_key:
                twin = new_by_key[key]
                plan = _Planned(entity, info, twin.guid, None)
                self._add_plan(plans, plan, key)
                if entity.guid:
                    result.guid_assignments[entity.guid] = twin.guid
                continue
            if existing is None and key is not None:
                existing = stored_by_key.get(key)
            if existing is None and entity.guid and not is_placeholder(entity.guid):
                raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, entity.guid)
            guid = existing.guid if existing is not None else new_guid()
            plan = _Planned(entity, info, guid, existing)
            self._add_plan(plans, plan, key)
            if existing is None and key is not None:
                new_by_key[key] = plan
            if entity.guid and entity.guid != guid:
                result.guid_assignments[entity.guid] = guid
        self._assignments = result.guid_assignments
        self._plans = plans
        return plans

    def _add_plan(self, plans: list[_Planned], plan: _Planned, key: tuple[str, str] | None) -> None:
        plans.append(plan)
        self._by_guid.setdefault(plan.guid, []).append(plan)
        if key is not None:
            self._by_key.setdefault(key, plan)

    def _set_record(self, guid: str, record: EntityRecord) -> None:
        for twin in self._by_guid.get(guid, []):
            twin.record = record

    def _apply_attributes(self, plan: _Planned) -> None:
        """Plain attributes (checked, merged over the stored ones) and row creation."""
        entity, info = plan.incoming, plan.info
        plain: dict[str, Any] = {}
        for name, value in (entity.attributes or {}).items():
            attribute = info.attributes.get(name)
            if name in info.relationship_attributes and (
                attribute is None or self.registry.references_entities(attribute.type_name)
            ):
                plan.references[name] = self._resolve_targets(info, name, value)
            elif attribute is None:
                continue  # Atlas ignores attributes its type does not define (e.g. `clusterName`)
            elif self.registry.references_entities(attribute.type_name):
                plain[name] = self._plain_references(attribute.type_name, value, f"{info.name}.{name}")
            else:
                plain[name] = self.registry.check_value(attribute.type_name, value, f"{info.name}.{name}")
        for name, value in (entity.relationshipAttributes or {}).items():
            if name not in info.relationship_attributes:
                raise AtlasError(Code.UNKNOWN_ATTRIBUTE, name, info.name)
            plan.references[name] = self._resolve_targets(info, name, value)
        current = plan.record or plan.existing
        base = dict(current.attributes) if current is not None else {}
        merged = {**base, **plain}
        merged = {k: v for k, v in merged.items() if v is not None}
        relationship_backed = [n for n in info.relationship_attributes if n not in plain]
        self.registry.check_mandatory(info, merged, skip=relationship_backed)
        if current is None:
            self._set_record(plan.guid, self.entities.add(info.name, merged, self.user, guid=plan.guid, flush=False))
            return
        plan.before = plan.before or _snapshot(current)
        reactivate = current.row.status != "ACTIVE"
        plan.record = current
        if merged != current.attributes or reactivate:
            new_name = merged.get("qualifiedName")
            if new_name != current.attributes.get("qualifiedName") and new_name is not None:
                self.session.flush()
                clash = self.entities.by_qualified_name([info.name], str(new_name))
                if clash is not None and clash.guid != current.guid:
                    raise AtlasError(Code.INSTANCE_ALREADY_EXISTS, f"{info.name} {new_name!r} exists")
            current.attributes = merged
            self.entities.save(current, self.user, status="ACTIVE", flush=False)
            plan.changed = True
        self._set_record(plan.guid, current)

    def _plain_references(self, type_name: str, value: Any, path: str) -> Any:
        many = type_name.startswith("array<")
        targets = self._targets(value, path)
        ids = [{"guid": g, "typeName": self._target_type(g)} for g in targets]
        return ids if many else (ids[0] if ids else None)

    def _resolve_targets(self, info: StructuredType, name: str, value: Any) -> list[str]:
        targets = self._targets(value, f"{info.name}.{name}")
        ends = info.relationship_attributes[name]
        if len(targets) > 1 and not any(end.many for end in ends):
            raise AtlasError(Code.INVALID_VALUE, f"{info.name}.{name}: takes a single entity")
        return targets

    def _targets(self, value: Any, path: str) -> list[str]:
        """Guids of the entities an attribute value refers to (AtlasObjectId, guid, or a list of them)."""
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        guids = []
        for item in items:
            guid = self._target(item, path)
            if guid not in guids:
                guids.append(guid)
        return guids

    def _target(self, item: Any, path: str) -> str:
        if isinstance(item, str):
            item = {"guid": item}
        if not isinstance(item, dict):
            raise AtlasError(Code.INVALID_OBJECT_ID, f"{path}: expected an object id")
        guid = item.get("guid")
        if isinstance(guid, str) and guid:
            if guid in self._assignments:
                return self._assignments[guid]
            if guid in self._by_guid:
                return guid
            if not is_placeholder(guid):
                record = self._stored_entity(guid)
                if record is not None and record.row.status == "ACTIVE":
                    return guid
            raise AtlasError(Code.UNRESOLVED_REFERENCES_FOUND, guid, "[]")
        type_name, unique = item.get("typeName"), item.get("uniqueAttributes")
        if not isinstance(type_name, str) or not isinstance(unique, dict) or not unique:
            raise AtlasError(Code.INVALID_OBJECT_ID, f"{path}: give guid, or typeName and uniqueAttributes")
        target_info = self.registry.entity_type(type_name)
        if target_info is None:
            raise AtlasError(Code.TYPE_NAME_INVALID, "ENTITY", type_name)
        in_write = self._planned_unique(target_info.type_and_sub_types(), unique)
        if in_write is not None:
            return in_write
        record = self.reader.find_unique(type_name, {k: str(v) for k, v in unique.items()})
        if record is None:
            raise AtlasError(Code.UNRESOLVED_REFERENCES_FOUND, "[]", f"[{type_name}:{unique}]")
        return record.guid

    def _planned_unique(self, types: set[str], unique: dict[str, Any]) -> str | None:
        """The guid of an entity of this write with these unique attribute values, if any."""
        if set(unique) == {"qualifiedName"}:
            for type_name in types:
                plan = self._by_key.get((type_name, str(unique["qualifiedName"])))
                if plan is not None:
                    return plan.guid
            return None
        for plan in self._plans:
            attrs = plan.incoming.attributes or {}
            if plan.info.name in types and all(str(attrs.get(k)) == str(v) for k, v in unique.items()):
                return plan.guid
        return None

    def _stored_entity(self, guid: str) -> EntityRecord | None:
        if guid not in self._stored:
            self._stored[guid] = self.entities.get(guid)
        return self._stored[guid]

    def _target_type(self, guid: str) -> str:
        planned = self._by_guid.get(guid)
        if planned:
            return planned[0].info.name
        record = self._stored_entity(guid)
        assert record is not None
        return record.row.type_name

    def _apply_references(self, plan: _Planned, by_guid: dict[str, _Planned]) -> None:
        for name, targets in plan.references.items():
            ends = plan.info.relationship_attributes[name]
            chosen: dict[str, list[str]] = {end.relationship: [] for end in ends}
            end_of = {end.relationship: end for end in ends}
            for target in targets:
                target_type = self._target_type(target)
                end = self.registry.relationship_attribute(plan.info, name, target_type)
                if not self.registry.is_a(target_type, end.target_type):
                    raise AtlasError(Code.RELATIONSHIP_INVALID_ENDTYPE, name, target, target_type, end.target_type)
                chosen[end.relationship].append(target)
            for relationship, wanted in chosen.items():
                if self._sync_edges(plan.guid, end_of[relationship], wanted):
                    by_guid[plan.guid].changed = True
                    if plan.existing is not None and plan.before is None:
                        plan.before = _snapshot(plan.existing)

    def _sync_edges(self, guid: str, end: RelationshipEnd, wanted: list[str]) -> bool:
        """Make `guid`'s edges of `end` exactly `wanted`; True when an edge changed."""
        changed = False
        current = self.edges.at_end(guid, end.side, end.relationship)
        other = (lambda row: row.end2_guid) if end.side == 1 else (lambda row: row.end1_guid)
        for row in current:
            if other(row) not in wanted:
                self.edges.unlink(row)
                changed = True
        present = {other(row) for row in current}
        definition = self.registry.get(end.relationship) or {}
        far_end = definition.get("endDef2" if end.side == 1 else "endDef1", {})
        for target in wanted:
            if target in present:
                continue
            if far_end.get("cardinality", "SINGLE") == "SINGLE":
                # The target may point back at one entity only: drop its previous edge of this type.
                for row in self.edges.at_end(target, 2 if end.side == 1 else 1, end.relationship):
                    self.edges.unlink(row)
            end1, end2 = (guid, target) if end.side == 1 else (target, guid)
            changed = self.edges.link(end.relationship, end1, end2) or changed
        return changed

    def _apply_classifications(self, plan: _Planned, replace: bool) -> None:
        classifications = plan.incoming.classifications
        if classifications is None or plan.record is None:
            return
        for classification in classifications:
            if classification.entityGuid not in (None, plan.guid, plan.incoming.guid):
                raise AtlasError(Code.INVALID_PARAMETERS, "classification entityGuid differs from its entity")
        if replace:
            self.classifications.replace_all(plan.record, classifications)
        else:
            for classification in classifications:
                self.classifications.upsert(plan.record, classification)

    # -- delete -------------------------------------------------------------------------------------------

    def delete(self, guids: list[str]) -> MutationResult:
        result = MutationResult()
        for guid in guids:
            record = self.entities.get(guid, for_update=True)
            if record is None:
                raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
            self._delete(record, result)
        return result

    def _delete(self, record: EntityRecord, result: MutationResult) -> None:
        if record.row.status != "ACTIVE" or record.guid in result.deleted:
            return
        before = _snapshot(record)
        children = []
        for edge in self.relationships.touching([record.guid]):
            definition = self.registry.get(edge.type_name) or {}
            if definition.get("relationshipCategory") == "COMPOSITION":
                container_is_end1 = definition["endDef1"].get("isContainer")
                parent, child = (
                    (edge.end1_guid, edge.end2_guid) if container_is_end1 else (edge.end2_guid, edge.end1_guid)
                )
                if parent == record.guid:
                    children.append(child)
            self.relationships.unlink(edge)
        self.entities.save(record, self.user, status="DELETED")
        result.deleted.append(record.guid)
        self.audit.record(
            self.user, "ENTITY_DELETE", entity_guid=record.guid, type_name=record.row.type_name, before=before
        )
        for child in children:
            child_record = self.entities.get(child, for_update=True)
            if child_record is not None:
                self._delete(child_record, result)

    # -- purge --------------------------------------------------------------------------------------------

    def purge(self, guids: list[str]) -> MutationResult:
        """Remove soft-deleted entities for good (Atlas's admin purge); ACTIVE ones are left alone."""
        result = MutationResult()
        for guid in dict.fromkeys(guids):
            record = self.entities.get(guid, for_update=True)
            if record is None or record.row.status != "DELETED":
                continue
            result.purged.extend(self.reader.headers([record]))
            self.entities.purge(guid)
            self.audit.record(
                self.user, "ENTITY_PURGE", entity_guid=guid, type_name=record.row.type_name, before=_snapshot(record)
            )
        return result
