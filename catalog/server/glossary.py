"""Atlas's business glossary (GlossaryREST): glossaries, terms, categories and term assignments.

As in Atlas, glossary objects are entities of the built-in types `AtlasGlossary`, `AtlasGlossaryTerm`
and `AtlasGlossaryCategory` (bootstrap/atlas_glossary.json), tied by Atlas's relationship types
(anchor, categorization, hierarchy, semantic assignment). So they share the entity store's
transactions, audit and soft delete; this module only translates to and from GlossaryREST's shapes.
Qualified names follow Atlas: a glossary's is its name, a term's `name@glossary`, a category's
`name@glossary` (`parent.name@glossary` under a parent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.server.entities import EntityWriter
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasEntity
from catalog.server.views import EntityReader
from catalog.store.repository import EntityRecord

GLOSSARY, TERM, CATEGORY = "AtlasGlossary", "AtlasGlossaryTerm", "AtlasGlossaryCategory"
ASSIGNMENT = "AtlasGlossarySemanticAssignment"
_TEXT = {
    GLOSSARY: ("name", "shortDescription", "longDescription", "language", "usage", "additionalAttributes"),
    TERM: ("name", "shortDescription", "longDescription", "examples", "abbreviation", "usage", "additionalAttributes"),
    CATEGORY: ("name", "shortDescription", "longDescription", "additionalAttributes"),
}
_KIND = {GLOSSARY: "Glossary", TERM: "Glossary term", CATEGORY: "Glossary category"}


@dataclass(frozen=True)
class _Related:
    guid: str
    relationship_guid: str
    display_text: str


def _related(entity: dict[str, Any], name: str) -> list[_Related]:
    value = entity.get("relationshipAttributes", {}).get(name)
    items = value if isinstance(value, list) else [value] if value else []
    return [
        _Related(item["guid"], item["relationshipGuid"], item.get("displayText") or "")
        for item in items
        if item.get("entityStatus", "ACTIVE") == "ACTIVE"
    ]


class GlossaryService:
    """Reads need an EntityReader; writes an EntityWriter (one transaction)."""

    # -- reading --------------------------------------------------------------------------------------

    @staticmethod
    def require(reader: EntityReader, guid: str, type_name: str) -> dict[str, Any]:
        record = reader.entities.get(guid)
        if record is None or record.row.type_name != type_name or record.row.status != "ACTIVE":
            raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
        return reader.render([record])[0][0]

    @staticmethod
    def _base(entity: dict[str, Any], type_name: str) -> dict[str, Any]:
        attributes = entity["attributes"]
        out: dict[str, Any] = {"guid": entity["guid"], "qualifiedName": attributes.get("qualifiedName")}
        out.update({name: attributes.get(name) for name in _TEXT[type_name]})
        return out

    def glossary(self, entity: dict[str, Any]) -> dict[str, Any]:
        out = self._base(entity, GLOSSARY)
        out["terms"] = [
            {"termGuid": r.guid, "relationGuid": r.relationship_guid, "displayText": r.display_text}
            for r in _related(entity, "terms")
        ]
        out["categories"] = [
            {"categoryGuid": r.guid, "relationGuid": r.relationship_guid, "displayText": r.display_text}
            for r in _related(entity, "categories")
        ]
        return out

    def term(self, entity: dict[str, Any]) -> dict[str, Any]:
        out = self._base(entity, TERM)
        anchor = _related(entity, "anchor")
        out["anchor"] = (
            {"glossaryGuid": anchor[0].guid, "relationGuid": anchor[0].relationship_guid,
             "displayText": anchor[0].display_text}
            if anchor else None
        )  # fmt: skip
        out["categories"] = [
            {"categoryGuid": r.guid, "relationGuid": r.relationship_guid, "displayText": r.display_text}
            for r in _related(entity, "categories")
        ]
        assigned = entity.get("relationshipAttributes", {}).get("assignedEntities") or []
        out["assignedEntities"] = [a for a in assigned if a.get("entityStatus", "ACTIVE") == "ACTIVE"]
        return out

    def category(self, entity: dict[str, Any]) -> dict[str, Any]:
        out = self._base(entity, CATEGORY)
        anchor, parent = _related(entity, "anchor"), _related(entity, "parentCategory")
        out["anchor"] = (
            {"glossaryGuid": anchor[0].guid, "relationGuid": anchor[0].relationship_guid,
             "displayText": anchor[0].display_text}
            if anchor else None
        )  # fmt: skip
        out["parentCategory"] = (
            {"categoryGuid": parent[0].guid, "relationGuid": parent[0].relationship_guid,
             "displayText": parent[0].display_text}
            if parent else None
        )  # fmt: skip
        out["childrenCategories"] = [
            {"categoryGuid": r.guid, "parentCategoryGuid": entity["guid"], "relationGuid": r.relationship_guid,
             "displayText": r.display_text}
            for r in _related(entity, "childrenCategories")
        ]  # fmt: skip
        out["terms"] = [
            {"termGuid": r.guid, "relationGuid": r.relationship_guid, "displayText": r.display_text}
            for r in _related(entity, "terms")
        ]
        return out

    def render(self, reader: EntityReader, guid: str, type_name: str) -> dict[str, Any]:
        entity = self.require(reader, guid, type_name)
        return {GLOSSARY: self.glossary, TERM: self.term, CATEGORY: self.category}[type_name](entity)

    def detailed(self, reader: EntityReader, guid: str) -> dict[str, Any]:
        """AtlasGlossaryExtInfo: the glossary plus its terms and categories in full."""
        out = self.render(reader, guid, GLOSSARY)
        out["termInfo"] = {t["termGuid"]: self.render(reader, t["termGuid"], TERM) for t in out["terms"]}
        out["categoryInfo"] = {
            c["categoryGuid"]: self.render(reader, c["categoryGuid"], CATEGORY) for c in out["categories"]
        }
        return out

    def glossaries(self, reader: EntityReader, limit: int, offset: int, descending: bool) -> list[dict[str, Any]]:
        records = reader.entities.of_types([GLOSSARY], include_deleted=False)
        records.sort(key=lambda r: str(r.attributes.get("name")), reverse=descending)
        return [self.render(reader, r.guid, GLOSSARY) for r in records[offset : offset + limit]]

    # -- writing --------------------------------------------------------------------------------------

    @staticmethod
    def _text(type_name: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AtlasError(Code.MISSING_MANDATORY_ATTRIBUTE, type_name, "name")
        if "@" in name or "." in name:
            raise AtlasError(Code.INVALID_PARAMETERS, f"{_KIND[type_name]} name cannot contain '@' or '.'")
        return {key: body[key] for key in _TEXT[type_name] if body.get(key) is not None}

    def _anchor(self, writer: EntityWriter, body: dict[str, Any]) -> EntityRecord:
        anchor = body.get("anchor") or {}
        guid = anchor.get("glossaryGuid") if isinstance(anchor, dict) else None
        if not guid:
            raise AtlasError(Code.BAD_REQUEST, "Mandatory anchor attribute is missing (anchor.glossaryGuid)")
        self.require(writer.reader, guid, GLOSSARY)
        record = writer.entities.get(guid)
        assert record is not None
        return record

    def _create(
        self, writer: EntityWriter, type_name: str, attributes: dict[str, Any], relations: dict[str, Any]
    ) -> str:
        existing = writer.entities.by_qualified_name([type_name], attributes["qualifiedName"])
        if existing is not None and existing.row.status == "ACTIVE":
            code = {
                GLOSSARY: Code.GLOSSARY_ALREADY_EXISTS,
                TERM: Code.GLOSSARY_TERM_ALREADY_EXISTS,
                CATEGORY: Code.GLOSSARY_CATEGORY_ALREADY_EXISTS,
            }[type_name]
            raise AtlasError(code, attributes["qualifiedName"])
        entity = AtlasEntity(typeName=type_name, guid="-1", attributes=attributes, relationshipAttributes=relations)
        result = writer.upsert([entity])
        return (result.created or result.updated)[0]

    def create_glossary(self, writer: EntityWriter, body: dict[str, Any]) -> str:
        attributes = self._text(GLOSSARY, body)
        attributes["qualifiedName"] = attributes["name"]
        return self._create(writer, GLOSSARY, attributes, {})

    def create_term(self, writer: EntityWriter, body: dict[str, Any]) -> str:
        attributes = self._text(TERM, body)
        glossary = self._anchor(writer, body)
        attributes["qualifiedName"] = f"{attributes['name']}@{glossary.attributes['qualifiedName']}"
        relations: dict[str, Any] = {"anchor": {"guid": glossary.guid}}
        categories = [c.get("categoryGuid") for c in body.get("categories") or [] if isinstance(c, dict)]
        if categories:
            relations["categories"] = [{"guid": self.require(writer.reader, g, CATEGORY)["guid"]} for g in categories]
        return self._create(writer, TERM, attributes, relations)

    def create_category(self, writer: EntityWriter, body: dict[str, Any]) -> str:
        attributes = self._text(CATEGORY, body)
        glossary = self._anchor(writer, body)
        relations: dict[str, Any] = {"anchor": {"guid": glossary.guid}}
        prefix = ""
        parent = body.get("parentCategory")
        if isinstance(parent, dict) and parent.get("categoryGuid"):
            rendered = self.require(writer.reader, parent["categoryGuid"], CATEGORY)
            prefix = str(rendered["attributes"]["qualifiedName"]).split("@")[0] + "."
            relations["parentCategory"] = {"guid": rendered["guid"]}
        attributes["qualifiedName"] = f"{prefix}{attributes['name']}@{glossary.attributes['qualifiedName']}"
        return self._create(writer, CATEGORY, attributes, relations)

    def update(self, writer: EntityWriter, guid: str, type_name: str, body: dict[str, Any]) -> None:
        """Replace the descriptive attributes (names and anchors stay: Atlas refuses anchor changes)."""
        current = self.require(writer.reader, guid, type_name)
        attributes = {key: body.get(key) for key in _TEXT[type_name] if key != "name"}
        if body.get("name") not in (None, current["attributes"].get("name")):
            raise AtlasError(Code.INVALID_PARAMETERS, f"{_KIND[type_name]} name cannot change; create a new one")
        writer.upsert([AtlasEntity(typeName=type_name, guid=guid, attributes=attributes)], partial=True)

    def delete(self, writer: EntityWriter, guid: str, type_name: str) -> None:
        """Soft delete; a glossary takes its terms and categories with it (composition)."""
        self.require(writer.reader, guid, type_name)
        if type_name == TERM:
            entity = self.term(self.require(writer.reader, guid, TERM))
            if entity["assignedEntities"]:
                message = f"Term (guid={guid}) can't be deleted as it has been assigned to entities"
                raise AtlasError(Code.BAD_REQUEST, message)
        writer.delete([guid])

    def assign(self, writer: EntityWriter, term_guid: str, targets: list[dict[str, Any]], *, remove: bool) -> None:
        """Assign the term to (or, with `remove`, take it off) the entities named by guid."""
        term = self.term(self.require(writer.reader, term_guid, TERM))
        current = [a["guid"] for a in term["assignedEntities"]]
        wanted = list(current)
        for target in targets:
            guid = target.get("guid") if isinstance(target, dict) else None
            if not guid:
                raise AtlasError(Code.INVALID_OBJECT_ID, "assignedEntities: give each entity's guid")
            record = writer.entities.get(guid)
            if record is None or record.row.status != "ACTIVE":
                raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, guid)
            if remove and guid not in current:
                raise AtlasError(Code.BAD_REQUEST, f"Term (guid={term_guid}) is not assigned to entity {guid}")
            if remove:
                wanted.remove(guid)
            elif guid not in wanted:
                wanted.append(guid)
        relations = {"assignedEntities": [{"guid": g} for g in wanted]}
        writer.upsert([AtlasEntity(typeName=TERM, guid=term_guid, relationshipAttributes=relations)], partial=True)

    def assigned_entities(self, reader: EntityReader, term_guid: str) -> list[dict[str, Any]]:
        return self.term(self.require(reader, term_guid, TERM))["assignedEntities"]
