"""Typedef storage: create, update and delete Atlas typedefs with Atlas's rules, render them as Atlas
does (guid, version, subTypes, relationshipAttributeDefs), and keep a cached `TypeRegistry`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasTypeNames, AtlasTypesDef
from catalog.server.typesystem import LIST_KEYS, PRIMITIVES, TypeRegistry, element_type
from catalog.store.db import Store
from catalog.store.repository import (
    AuditRepo,
    ClassificationRepo,
    EntityRepo,
    MetaRepo,
    RelationshipRepo,
    TypeDefRepo,
)
from catalog.store.tables import TypeDefRow

_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_KEY_TO_CATEGORY = {key: category for category, key in LIST_KEYS.items()}


@dataclass(frozen=True)
class TypeDefInfo:
    """A stored typedef: its document plus the bookkeeping columns."""

    guid: str
    name: str
    category: str
    definition: dict[str, Any]
    version: int
    created_by: str
    updated_by: str
    create_time: int
    update_time: int

    @classmethod
    def from_row(cls, row: TypeDefRow) -> TypeDefInfo:
        import json

        return cls(
            guid=row.guid,
            name=row.name,
            category=row.category,
            definition=json.loads(row.definition),
            version=row.version,
            created_by=row.created_by,
            updated_by=row.updated_by,
            create_time=row.create_time,
            update_time=row.update_time,
        )


class TypeCache:
    """The compiled registry, rebuilt when the typedef generation in the store moves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._registry = TypeRegistry([])
        self._infos: dict[str, TypeDefInfo] = {}

    def _refresh(self, session: Session) -> None:
        generation = MetaRepo(session).typedef_generation()
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            infos = {row.name: TypeDefInfo.from_row(row) for row in TypeDefRepo(session).all()}
            self._registry = TypeRegistry(info.definition for info in infos.values())
            self._infos = infos
            self._generation = generation

    def registry(self, session: Session) -> TypeRegistry:
        self._refresh(session)
        return self._registry

    def infos(self, session: Session) -> dict[str, TypeDefInfo]:
        self._refresh(session)
        return self._infos


# -- normalising incoming definitions -------------------------------------------------------------------


def _clean_type_name(type_name: str) -> str:
    return re.sub(r"\s+", "", type_name)


def _normalize_attribute(owner: str, attr: dict[str, Any], relationship: bool = False) -> dict[str, Any]:
    name = attr["name"]
    if not _ATTRIBUTE_NAME.match(name):
        raise AtlasError(Code.INVALID_TYPE_DEFINITION, f"{owner}: invalid attribute name {name!r}")
    type_name = _clean_type_name(attr["typeName"])
    if relationship and type_name not in PRIMITIVES:
        raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{owner}.{name}: relationship attributes must be primitive")
    cardinality = attr.get("cardinality") or "SINGLE"
    optional = bool(attr.get("isOptional", False))
    normalized = {
        "name": name,
        "typeName": type_name,
        "isOptional": optional,
        "cardinality": cardinality,
        "valuesMinCount": attr.get("valuesMinCount", 0 if optional else 1),
        "valuesMaxCount": attr.get("valuesMaxCount", 1 if cardinality == "SINGLE" else 2147483647),
        "isUnique": bool(attr.get("isUnique", False)),
        "isIndexable": bool(attr.get("isIndexable", False)),
        "includeInNotification": bool(attr.get("includeInNotification", False)),
        "searchWeight": attr.get("searchWeight", -1),
    }
    for key in ("defaultValue", "description", "indexType", "constraints", "options", "displayName"):
        if attr.get(key) is not None:
            normalized[key] = attr[key]
    return normalized


def normalize_definition(category: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The stored document for one typedef (bookkeeping fields dropped, defaults filled)."""
    name = raw["name"]
    if not _TYPE_NAME.match(name):
        raise AtlasError(Code.TYPE_NAME_INVALID_FORMAT, name, category.lower())
    if raw.get("category") and raw["category"] != category:
        raise AtlasError(Code.TYPE_MATCH_FAILED, raw["category"], category)
    doc: dict[str, Any] = {"category": category, "name": name, "typeVersion": raw.get("typeVersion") or "1.0"}
    for key in ("description", "serviceType", "options"):
        if raw.get(key) is not None:
            doc[key] = raw[key]
    if category == "ENUM":
        elements = raw.get("elementDefs") or []
        if not elements:
            raise AtlasError(Code.INVALID_TYPE_DEFINITION, f"{name}: an enum needs elementDefs")
        values = [e["value"] for e in elements]
        if len(set(values)) != len(values):
            raise AtlasError(Code.INVALID_TYPE_DEFINITION, f"{name}: duplicate enum values")
        doc["elementDefs"] = [
            {"value": e["value"], "ordinal": e["ordinal"] if e.get("ordinal") is not None else i}
            | ({"description": e["description"]} if e.get("description") else {})
            for i, e in enumerate(elements)
        ]
        if raw.get("defaultValue") is not None:
            if raw["defaultValue"] not in values:
                raise AtlasError(Code.INVALID_TYPE_DEFINITION, f"{name}: defaultValue is not an element")
            doc["defaultValue"] = raw["defaultValue"]
        return doc
    attributes = [
        _normalize_attribute(name, a, relationship=category == "RELATIONSHIP") for a in raw.get("attributeDefs") or []
    ]
    names = [a["name"] for a in attributes]
    if len(set(names)) != len(names):
        raise AtlasError(Code.INVALID_TYPE_DEFINITION, f"{name}: duplicate attribute names")
    doc["attributeDefs"] = attributes
    if category in ("ENTITY", "CLASSIFICATION"):
        doc["superTypes"] = list(dict.fromkeys(raw.get("superTypes") or []))
    if category == "CLASSIFICATION":
        doc["entityTypes"] = list(dict.fromkeys(raw.get("entityTypes") or []))
    if category == "RELATIONSHIP":
        doc.update(_normalize_relationship(name, raw))
    return doc


def _normalize_relationship(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    relationship_category = raw.get("relationshipCategory") or "ASSOCIATION"
    ends = []
    for key in ("endDef1", "endDef2"):
        end = raw[key]
        if not _ATTRIBUTE_NAME.match(end["name"]):
            raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: invalid end name {end['name']!r}")
        cardinality = end.get("cardinality") or "SINGLE"
        if cardinality == "LIST":
            raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: an end cannot have LIST cardinality")
        ends.append(
            {
                "type": end["type"],
                "name": end["name"],
                "isContainer": bool(end.get("isContainer")),
                "cardinality": cardinality,
                "isLegacyAttribute": bool(end.get("isLegacyAttribute")),
            }
            | ({"description": end["description"]} if end.get("description") else {})
        )
    containers = sum(end["isContainer"] for end in ends)
    if containers == 2:
        raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: both ends are containers")
    if relationship_category == "ASSOCIATION" and containers:
        raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: an ASSOCIATION end cannot be a container")
    if relationship_category != "ASSOCIATION" and not containers:
        raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: {relationship_category} needs a container end")
    doc: dict[str, Any] = {
        "relationshipCategory": relationship_category,
        "propagateTags": raw.get("propagateTags") or "NONE",
        "endDef1": ends[0],
        "endDef2": ends[1],
    }
    if raw.get("relationshipLabel"):
        doc["relationshipLabel"] = raw["relationshipLabel"]
    return doc


def definitions_of(payload: AtlasTypesDef | AtlasTypeNames) -> list[tuple[str, dict[str, Any]]]:
    """(category, raw definition) pairs in creation order."""
    found = []
    for key, category in _KEY_TO_CATEGORY.items():
        for item in getattr(payload, key) or []:
            found.append((category, item.model_dump(exclude_none=True)))
    return found


# -- rendering ------------------------------------------------------------------------------------------------


def render(info: TypeDefInfo, registry: TypeRegistry) -> dict[str, Any]:
    out = {
        "category": info.category,
        "guid": info.guid,
        "createdBy": info.created_by,
        "updatedBy": info.updated_by,
        "createTime": info.create_time,
        "updateTime": info.update_time,
        "version": info.version,
        **info.definition,
    }
    if info.category in ("ENTITY", "CLASSIFICATION"):
        out["subTypes"] = registry.direct_sub_types(info.name)
    if info.category == "ENTITY":
        entity = registry.entity_type(info.name)
        out["relationshipAttributeDefs"] = _relationship_attribute_defs(entity, registry) if entity else []
    return out


def _relationship_attribute_defs(entity: Any, registry: TypeRegistry) -> list[dict[str, Any]]:
    defs = []
    for name, ends in sorted(entity.relationship_attributes.items()):
        for end in ends:
            defs.append(
                {
                    "name": name,
                    "typeName": f"array<{end.target_type}>" if end.many else end.target_type,
                    "isOptional": True,
                    "cardinality": end.cardinality,
                    "valuesMinCount": 0,
                    "valuesMaxCount": 2147483647 if end.many else 1,
                    "isUnique": False,
                    "isIndexable": False,
                    "includeInNotification": False,
                    "searchWeight": -1,
                    "relationshipTypeName": end.relationship,
                    "isLegacyAttribute": end.legacy,
                }
            )
    return defs


def render_types_def(infos: list[TypeDefInfo], registry: TypeRegistry) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {key: [] for key in LIST_KEYS.values()}
    for info in infos:
        out[LIST_KEYS[info.category]].append(render(info, registry))
    return out


# -- the service ------------------------------------------------------------------------------------------------


class TypeDefService:
    def __init__(self, store: Store, cache: TypeCache) -> None:
        self.store = store
        self.cache = cache

    def create(self, payload: AtlasTypesDef, user: str) -> dict[str, list[dict[str, Any]]]:
        incoming = [normalize_definition(category, raw) for category, raw in definitions_of(payload)]
        if not incoming:  # Atlas answers an empty batch with empty lists, not an error
            return {key: [] for key in LIST_KEYS.values()}
        return self.store.write(lambda session: self._create(session, incoming, user))

    def create_missing(self, definitions: list[dict[str, Any]], user: str) -> list[str]:
        """Create those of `definitions` not yet stored (bootstrap); returns their names."""

        def run(session: Session) -> list[str]:
            existing = {row.name for row in TypeDefRepo(session).all()}
            missing = [d for d in definitions if d["name"] not in existing]
            if missing:
                self._create(session, missing, user)
            return [d["name"] for d in missing]

        return self.store.write(run)

    def _create(self, session: Session, incoming: list[dict[str, Any]], user: str) -> dict[str, list[dict[str, Any]]]:
        repo = TypeDefRepo(session)
        existing = {row.name: TypeDefInfo.from_row(row) for row in repo.all()}
        seen: set[str] = set()
        for doc in incoming:
            if doc["name"] in existing or doc["name"] in seen:
                raise AtlasError(Code.TYPE_ALREADY_EXISTS, doc["name"])
            seen.add(doc["name"])
        registry = TypeRegistry([*(i.definition for i in existing.values()), *incoming])
        registry.check_attribute_types(seen)
        audit = AuditRepo(session)
        created = []
        for doc in incoming:
            row = repo.add(doc, user)
            audit.record(user, "TYPE_DEF_CREATE", type_name=doc["name"], after=doc)
            created.append(row)
        session.flush()
        MetaRepo(session).bump_typedef_generation()
        return render_types_def([TypeDefInfo.from_row(row) for row in created], registry)

    def update(self, payload: AtlasTypesDef, user: str) -> dict[str, list[dict[str, Any]]]:
        incoming = [normalize_definition(category, raw) for category, raw in definitions_of(payload)]
        if not incoming:  # Atlas answers an empty batch with empty lists, not an error
            return {key: [] for key in LIST_KEYS.values()}
        return self.store.write(lambda session: self._update(session, incoming, user))

    def _update(self, session: Session, incoming: list[dict[str, Any]], user: str) -> dict[str, list[dict[str, Any]]]:
        repo = TypeDefRepo(session)
        rows = {row.name: row for row in repo.all()}
        current = {name: TypeDefInfo.from_row(row).definition for name, row in rows.items()}
        for doc in incoming:
            old = current.get(doc["name"])
            if old is None:
                raise AtlasError(Code.TYPE_NAME_NOT_FOUND, doc["name"])
            _check_compatible(old, doc)
            current[doc["name"]] = doc
        registry = TypeRegistry(current.values())
        registry.check_attribute_types(d["name"] for d in incoming)
        audit = AuditRepo(session)
        updated = []
        for doc in incoming:
            row = rows[doc["name"]]
            before = TypeDefInfo.from_row(row).definition
            if before == doc:
                updated.append(row)
                continue
            repo.replace(row, doc, user)
            audit.record(user, "TYPE_DEF_UPDATE", type_name=doc["name"], before=before, after=doc)
            updated.append(row)
        session.flush()
        MetaRepo(session).bump_typedef_generation()
        return render_types_def([TypeDefInfo.from_row(row) for row in updated], registry)

    def delete(self, names: list[str], user: str) -> None:
        if not names:
            raise AtlasError(Code.INVALID_PARAMETERS, "no typedefs given")
        self.store.write(lambda session: self._delete(session, names, user))

    def _delete(self, session: Session, names: list[str], user: str) -> None:
        repo = TypeDefRepo(session)
        rows = {row.name: row for row in repo.all()}
        for name in names:
            if name not in rows:
                raise AtlasError(Code.TYPE_NAME_NOT_FOUND, name)
        doomed = set(names)
        registry = TypeRegistry(TypeDefInfo.from_row(row).definition for row in rows.values())
        for name in names:
            _check_unreferenced(session, registry, name, doomed)
        audit = AuditRepo(session)
        for name in names:
            audit.record(user, "TYPE_DEF_DELETE", type_name=name, before=TypeDefInfo.from_row(rows[name]).definition)
            repo.delete(rows[name])
        session.flush()
        MetaRepo(session).bump_typedef_generation()


def _check_compatible(old: dict[str, Any], new: dict[str, Any]) -> None:
    name = new["name"]
    if old["category"] != new["category"]:
        raise AtlasError(Code.TYPE_MATCH_FAILED, new["category"], old["category"])
    if set(old.get("superTypes") or []) - set(new.get("superTypes") or []):
        raise AtlasError(Code.SUPERTYPE_REMOVAL_NOT_SUPPORTED)
    old_attrs = {a["name"]: a for a in old.get("attributeDefs") or []}
    new_attrs = {a["name"]: a for a in new.get("attributeDefs") or []}
    for attr_name, attr in old_attrs.items():
        if attr_name not in new_attrs:
            raise AtlasError(Code.ATTRIBUTE_DELETION_NOT_SUPPORTED, name, attr_name)
        if new_attrs[attr_name]["typeName"] != attr["typeName"]:
            raise AtlasError(
                Code.INVALID_TYPE_DEFINITION, f"{name}.{attr_name}: the type of an attribute cannot change"
            )
    for attr_name, attr in new_attrs.items():
        if attr_name not in old_attrs and not attr["isOptional"]:
            raise AtlasError(Code.CANNOT_ADD_MANDATORY_ATTRIBUTE, name, attr_name)
    if new["category"] == "RELATIONSHIP":
        for key in ("endDef1", "endDef2"):
            if (old[key]["type"], old[key]["name"]) != (new[key]["type"], new[key]["name"]):
                raise AtlasError(Code.RELATIONSHIPDEF_INVALID, f"{name}: {key} cannot change")


def _check_unreferenced(session: Session, registry: TypeRegistry, name: str, doomed: set[str]) -> None:
    """409 when deleting `name` would orphan instances or other typedefs (not themselves being deleted)."""
    category = registry.category(name)
    if category == "ENTITY" and EntityRepo(session).count_of_types([name]):
        raise AtlasError(Code.TYPE_HAS_REFERENCES, name)
    if category == "CLASSIFICATION" and ClassificationRepo(session).count_of_types([name]):
        raise AtlasError(Code.TYPE_HAS_REFERENCES, name)
    if category == "RELATIONSHIP" and RelationshipRepo(session).count_of_type(name):
        raise AtlasError(Code.TYPE_HAS_REFERENCES, name)
    for other, definition in registry.definitions.items():
        if other in doomed:
            continue
        if name in (definition.get("superTypes") or []) or name in (definition.get("entityTypes") or []):
            raise AtlasError(Code.TYPE_HAS_REFERENCES, name)
        for attr in definition.get("attributeDefs") or []:
            type_name = attr["typeName"]
            if name in (element_type(type_name), type_name) or re.search(rf"[<,]{re.escape(name)}[>,]", type_name):
                raise AtlasError(Code.TYPE_HAS_REFERENCES, name)
        if definition["category"] == "RELATIONSHIP" and name in (
            definition["endDef1"]["type"],
            definition["endDef2"]["type"],
        ):
            raise AtlasError(Code.TYPE_HAS_RELATIONSHIPS, name)
