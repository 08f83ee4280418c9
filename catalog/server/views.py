"""Entities as Atlas renders them: AtlasEntity (attributes, relationshipAttributes, classifications),
AtlasEntityHeader, AtlasObjectId and AtlasRelatedObjectId, plus lookups by unique attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.typesystem import TypeRegistry
from catalog.store.repository import ClassificationRepo, EntityRecord, EntityRepo, RelationshipRepo, loads
from catalog.store.tables import ClassificationRow, RelationshipRow

PLACEHOLDER_PREFIX = "-"


def is_placeholder(guid: str | None) -> bool:
    """Atlas clients mark entities not yet created with negative guids ("-123")."""
    return guid is not None and guid.startswith(PLACEHOLDER_PREFIX)


def display_text(record: EntityRecord) -> str:
    return str(record.attributes.get("name") or record.attributes.get("qualifiedName") or record.guid)


def unique_attributes(record: EntityRecord, registry: TypeRegistry) -> dict[str, Any]:
    info = registry.entity_type(record.row.type_name)
    names = info.unique_attributes if info else ["qualifiedName"]
    return {name: record.attributes.get(name) for name in names if name in record.attributes}


def object_id(record: EntityRecord, registry: TypeRegistry) -> dict[str, Any]:
    return {
        "guid": record.guid,
        "typeName": record.row.type_name,
        "uniqueAttributes": unique_attributes(record, registry),
    }


def render_classification(row: ClassificationRow, entity_status: str, registry: TypeRegistry) -> dict[str, Any]:
    stored = loads(row.attributes) or {}
    info = registry.classification_type(row.type_name)
    attributes = {name: stored.get(name) for name in info.attributes} if info else dict(stored)
    return {
        "typeName": row.type_name,
        "attributes": attributes,
        "entityGuid": row.entity_guid,
        "entityStatus": entity_status,
        "propagate": row.propagate,
        "removePropagationsOnEntityDelete": row.remove_propagations,
        "validityPeriods": loads(row.validity_periods) or [],
    }


def header(
    record: EntityRecord,
    classifications: list[ClassificationRow],
    registry: TypeRegistry,
    extra_attributes: Iterable[str] = (),
) -> dict[str, Any]:
    wanted = ["qualifiedName", "name", *extra_attributes]
    return {
        "typeName": record.row.type_name,
        "attributes": {name: record.attributes.get(name) for name in wanted if name in record.attributes},
        "guid": record.guid,
        "status": record.row.status,
        "displayText": display_text(record),
        "classificationNames": [row.type_name for row in classifications],
        "classifications": [render_classification(row, record.row.status, registry) for row in classifications],
        "meaningNames": [],
        "meanings": [],
        "isIncomplete": False,
        "labels": loads(record.row.labels) or [],
    }


class EntityReader:
    """Renders stored entities; one instance per session (batches its look-ups)."""

    def __init__(self, session: Session, registry: TypeRegistry) -> None:
        self.session = session
        self.registry = registry
        self.entities = EntityRepo(session)
        self.relationships = RelationshipRepo(session)
        self.classifications = ClassificationRepo(session)

    # -- lookups -----------------------------------------------------------------------------------

    def require(self, guid: str) -> EntityRecord:
        record = self.entities.get(guid)
        if record is None:
            raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
        return record

    def find_unique(self, type_name: str, attributes: dict[str, str]) -> EntityRecord | None:
        """The ACTIVE entity of `type_name` (or a subtype) with these unique attribute values."""
        info = self.registry.entity_type(type_name)
        if info is None:
            raise AtlasError(Code.TYPE_NAME_INVALID, "ENTITY", type_name)
        if not attributes:
            raise AtlasError(Code.INVALID_PARAMETERS, "give at least one unique attribute as attr:NAME=VALUE")
        for name in attributes:
            attribute = info.attributes.get(name)
            if attribute is None or not attribute.unique:
                raise AtlasError(Code.INVALID_PARAMETERS, f"{name} is not a unique attribute of {type_name}")
        types = info.type_and_sub_types()
        if "qualifiedName" in attributes:
            candidates = [self.entities.by_qualified_name(types, attributes["qualifiedName"])]
        else:
            candidates = list(self.entities.of_types(types, include_deleted=False))
        for record in candidates:
            if record is None or record.row.status != "ACTIVE":
                continue
            if all(str(record.attributes.get(k)) == str(v) for k, v in attributes.items()):
                return record
        return None

    def require_unique(self, type_name: str, attributes: dict[str, str]) -> EntityRecord:
        record = self.find_unique(type_name, attributes)
        if record is None:
            raise AtlasError(Code.INSTANCE_BY_UNIQUE_ATTRIBUTE_NOT_FOUND, type_name, attributes)
        return record

    # -- rendering ---------------------------------------------------------------------------------

    def with_ext_info(self, record: EntityRecord, *, min_ext_info: bool, ignore_relationships: bool) -> dict[str, Any]:
        """AtlasEntityWithExtInfo: the entity and, unless minExtInfo, the entities it refers to."""
        entity, referred = self.render([record], ignore_relationships=ignore_relationships)[0]
        referred_entities = {}
        if referred:
            others = [r for r in self.entities.get_many(referred).values() if r.guid != record.guid]
            light = min_ext_info or ignore_relationships
            for rendered, _ in self.render(others, ignore_relationships=light, classifications=not min_ext_info):
                referred_entities[rendered["guid"]] = rendered
        return {"entity": entity, "referredEntities": referred_entities}

    def render(
        self, records: list[EntityRecord], *, ignore_relationships: bool = False, classifications: bool = True
    ) -> list[tuple[dict[str, Any], set[str]]]:
        """Each record as AtlasEntity, with the guids it refers to."""
        guids = [r.guid for r in records]
        tags = self.classifications.of_entities(guids) if classifications else {}
        edges = self.relationships.touching(guids) if not ignore_relationships else []
        by_entity: dict[str, list[RelationshipRow]] = {}
        for edge in edges:
            by_entity.setdefault(edge.end1_guid, []).append(edge)
            if edge.end2_guid != edge.end1_guid:
                by_entity.setdefault(edge.end2_guid, []).append(edge)
        plain_refs = {g: self._plain_reference_guids(r) for g, r in ((r.guid, r) for r in records)}
        neighbours = {e.end1_guid for e in edges} | {e.end2_guid for e in edges}
        neighbours |= {g for refs in plain_refs.values() for g in refs}
        known = self.entities.get_many(neighbours - set(guids))
        known.update({r.guid: r for r in records})
        out = []
        for record in records:
            entity, referred = self._render_one(
                record, tags.get(record.guid, []), by_entity.get(record.guid, []), known
            )
            if ignore_relationships:
                entity.pop("relationshipAttributes", None)
            out.append((entity, referred | plain_refs[record.guid]))
        return out

    def _plain_reference_guids(self, record: EntityRecord) -> set[str]:
        info = self.registry.entity_type(record.row.type_name)
        found: set[str] = set()
        if info is None:
            return found
        for name, value in record.attributes.items():
            attribute = info.attributes.get(name)
            if attribute is not None and self.registry.references_entities(attribute.type_name):
                items = value if isinstance(value, list) else [value]
                found |= {item["guid"] for item in items if isinstance(item, dict) and "guid" in item}
        return found

    def _render_one(
        self,
        record: EntityRecord,
        tags: list[ClassificationRow],
        edges: list[RelationshipRow],
        known: dict[str, EntityRecord],
    ) -> tuple[dict[str, Any], set[str]]:
        registry = self.registry
        info = registry.entity_type(record.row.type_name)
        attributes: dict[str, Any] = {}
        for name, value in record.attributes.items():
            attribute = info.attributes.get(name) if info else None
            if attribute is not None and registry.references_entities(attribute.type_name):
                attributes[name] = self._refresh_object_ids(value, known)
            else:
                attributes[name] = value
        if info is not None:
            for name in info.attributes:
                attributes.setdefault(name, None)
        relationship_attributes: dict[str, Any] = {}
        legacy: dict[str, Any] = {}
        referred: set[str] = set()
        if info is not None:
            for name, ends in info.relationship_attributes.items():
                many = any(end.many for end in ends)
                values = []
                for end in ends:
                    for edge in edges:
                        if edge.type_name != end.relationship:
                            continue
                        own, other = (
                            (edge.end1_guid, edge.end2_guid) if end.side == 1 else (edge.end2_guid, edge.end1_guid)
                        )
                        target = known.get(other)
                        if own != record.guid or target is None:
                            continue
                        referred.add(other)
                        values.append(self._related_object_id(target, edge))
                        if end.legacy:
                            legacy.setdefault(name, []).append(object_id(target, registry))
                relationship_attributes[name] = values if many else (values[0] if values else None)
                if name in legacy:
                    attributes[name] = legacy[name] if many else legacy[name][0]
        entity = {
            "typeName": record.row.type_name,
            "attributes": attributes,
            "guid": record.guid,
            "isIncomplete": False,
            "status": record.row.status,
            "createdBy": record.row.created_by,
            "updatedBy": record.row.updated_by,
            "createTime": record.row.create_time,
            "updateTime": record.row.update_time,
            "version": record.row.version,
            "relationshipAttributes": relationship_attributes,
            "classifications": [render_classification(t, record.row.status, registry) for t in tags],
            "labels": loads(record.row.labels) or [],
            "proxy": False,
        }
        return entity, referred

    def _related_object_id(self, target: EntityRecord, edge: RelationshipRow) -> dict[str, Any]:
        return {
            **object_id(target, self.registry),
            "entityStatus": target.row.status,
            "displayText": display_text(target),
            "relationshipType": edge.type_name,
            "relationshipGuid": edge.guid,
            "relationshipStatus": edge.status,
            "relationshipAttributes": {"typeName": edge.type_name, "attributes": {}},
        }

    def _refresh_object_ids(self, value: Any, known: dict[str, EntityRecord]) -> Any:
        """Stored plain references are {guid, typeName}; render them with current unique attributes."""
        if isinstance(value, list):
            return [self._refresh_object_ids(v, known) for v in value]
        if isinstance(value, dict) and value.get("guid") in known:
            return object_id(known[value["guid"]], self.registry)
        return value

    def headers(self, records: list[EntityRecord], extra_attributes: Iterable[str] = ()) -> list[dict[str, Any]]:
        tags = self.classifications.of_entities([r.guid for r in records])
        extra = list(extra_attributes)
        return [header(r, tags.get(r.guid, []), self.registry, extra) for r in records]
