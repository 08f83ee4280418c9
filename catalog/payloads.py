"""Builders for Atlas v2 JSON payloads (plain dicts), used with `catalog.client.CatalogClient`."""

from __future__ import annotations

from typing import Any


def entity(
    type_name: str,
    attributes: dict[str, Any],
    *,
    guid: str | None = None,
    classifications: list[dict[str, Any]] | None = None,
    relationship_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An AtlasEntity; give a negative `guid` ("-1") to refer to it from other entities of one request."""
    body: dict[str, Any] = {"typeName": type_name, "attributes": attributes}
    if guid is not None:
        body["guid"] = guid
    if classifications is not None:
        body["classifications"] = classifications
    if relationship_attributes is not None:
        body["relationshipAttributes"] = relationship_attributes
    return body


def object_id(type_name: str, qualified_name: str) -> dict[str, Any]:
    """An AtlasObjectId naming an entity by its qualifiedName."""
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qualified_name}}


def classification(type_name: str, **attributes: Any) -> dict[str, Any]:
    return {"typeName": type_name, "attributes": attributes}


def criterion(attribute: str, operator: str, value: Any) -> dict[str, Any]:
    """One entityFilters/tagFilters condition (operators: =, !=, <, >, startsWith, contains, like, …)."""
    return {"attributeName": attribute, "operator": operator, "attributeValue": value}


def all_of(*criteria: dict[str, Any]) -> dict[str, Any]:
    return {"condition": "AND", "criterion": list(criteria)}


def any_of(*criteria: dict[str, Any]) -> dict[str, Any]:
    return {"condition": "OR", "criterion": list(criteria)}


def assigned_guid(mutation: dict[str, Any], placeholder: str) -> str | None:
    """The real guid the catalog gave the entity sent with `placeholder` as its guid."""
    return (mutation.get("guidAssignments") or {}).get(placeholder)
