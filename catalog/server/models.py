"""Request bodies of the Atlas v2 API as pydantic models (Atlas's JSON field names).

Models are lenient the way Atlas's Jackson mapping is: unknown fields are ignored (clients send
`homeId`, `meanings`, … as null), every optional field may be null. Semantic checks (does the type
exist, is the value an int) happen in the services, which answer in Atlas's error shape.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Cardinality = Literal["SINGLE", "LIST", "SET"]


def _options_as_strings(value: Any) -> Any:
    """Atlas keeps typedef options as strings and coerces what Jackson can (`"maxStrLength": 50` → "50")."""
    if not isinstance(value, dict):
        return value
    return {key: item if isinstance(item, str) else json.dumps(item) for key, item in value.items() if item is not None}


Options = Annotated[dict[str, str] | None, BeforeValidator(_options_as_strings)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- typedefs ------------------------------------------------------------------------------------------


class AtlasConstraintDef(_Lenient):
    type: str
    params: dict[str, Any] | None = None


class AtlasAttributeDef(_Lenient):
    name: str = Field(min_length=1, max_length=255)
    typeName: str = Field(min_length=1, max_length=512)
    isOptional: bool | None = None
    cardinality: Cardinality | None = None
    valuesMinCount: int | None = None
    valuesMaxCount: int | None = None
    isUnique: bool | None = None
    isIndexable: bool | None = None
    includeInNotification: bool | None = None
    defaultValue: str | None = None
    description: str | None = None
    searchWeight: int | None = None
    indexType: str | None = None
    constraints: list[AtlasConstraintDef] | None = None
    options: Options = None
    displayName: str | None = None


class AtlasEnumElementDef(_Lenient):
    value: str = Field(min_length=1, max_length=255)
    description: str | None = None
    ordinal: int | None = None


class AtlasBaseTypeDef(_Lenient):
    category: str | None = None
    guid: str | None = None
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    typeVersion: str | None = None
    serviceType: str | None = None
    options: Options = None


class AtlasEnumDef(AtlasBaseTypeDef):
    elementDefs: list[AtlasEnumElementDef] | None = None
    defaultValue: str | None = None


class AtlasStructDef(AtlasBaseTypeDef):
    attributeDefs: list[AtlasAttributeDef] | None = None


class AtlasClassificationDef(AtlasStructDef):
    superTypes: list[str] | None = None
    entityTypes: list[str] | None = None


class AtlasEntityDef(AtlasStructDef):
    superTypes: list[str] | None = None


class AtlasRelationshipEndDef(_Lenient):
    type: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    isContainer: bool | None = None
    cardinality: Cardinality | None = None
    isLegacyAttribute: bool | None = None
    description: str | None = None


class AtlasRelationshipDef(AtlasStructDef):
    relationshipCategory: Literal["ASSOCIATION", "AGGREGATION", "COMPOSITION"] | None = None
    relationshipLabel: str | None = None
    propagateTags: Literal["NONE", "ONE_TO_TWO", "TWO_TO_ONE", "BOTH"] | None = None
    endDef1: AtlasRelationshipEndDef
    endDef2: AtlasRelationshipEndDef


class AtlasBusinessMetadataDef(AtlasStructDef):
    pass


class AtlasTypesDef(_Lenient):
    enumDefs: list[AtlasEnumDef] | None = None
    structDefs: list[AtlasStructDef] | None = None
    classificationDefs: list[AtlasClassificationDef] | None = None
    entityDefs: list[AtlasEntityDef] | None = None
    relationshipDefs: list[AtlasRelationshipDef] | None = None
    businessMetadataDefs: list[AtlasBusinessMetadataDef] | None = None


class AtlasTypeNames(_Lenient):
    """DELETE /types/typedefs only needs the names."""

    enumDefs: list[AtlasBaseTypeDef] | None = None
    structDefs: list[AtlasBaseTypeDef] | None = None
    classificationDefs: list[AtlasBaseTypeDef] | None = None
    entityDefs: list[AtlasBaseTypeDef] | None = None
    relationshipDefs: list[AtlasBaseTypeDef] | None = None
    businessMetadataDefs: list[AtlasBaseTypeDef] | None = None


# -- instances -----------------------------------------------------------------------------------------


class TimeBoundary(_Lenient):
    startTime: str | None = None
    endTime: str | None = None
    timeZone: str | None = None


class AtlasClassification(_Lenient):
    typeName: str = Field(min_length=1, max_length=255)
    attributes: dict[str, Any] | None = None
    entityGuid: str | None = None
    entityStatus: str | None = None
    propagate: bool | None = None
    removePropagationsOnEntityDelete: bool | None = None
    validityPeriods: list[TimeBoundary] | None = None


class AtlasEntity(_Lenient):
    typeName: str = Field(min_length=1, max_length=255)
    attributes: dict[str, Any] | None = None
    relationshipAttributes: dict[str, Any] | None = None
    guid: str | None = Field(None, max_length=64)
    status: Literal["ACTIVE", "DELETED", "PURGED"] | None = None
    classifications: list[AtlasClassification] | None = None
    labels: list[str] | None = None


class AtlasEntityWithExtInfo(_Lenient):
    entity: AtlasEntity
    referredEntities: dict[str, AtlasEntity] | None = None


class AtlasEntitiesWithExtInfo(_Lenient):
    entities: list[AtlasEntity] = Field(default_factory=list)
    referredEntities: dict[str, AtlasEntity] | None = None


class ClassificationAssociateRequest(_Lenient):
    classification: AtlasClassification
    entityGuids: list[str] = Field(min_length=1)


# -- search --------------------------------------------------------------------------------------------


MAX_LIMIT = 10000
MAX_OFFSET = 10**9


def _page_limit(value: Any) -> Any:
    """Atlas answers `limit` ≤ 0 (clients send -1 for "default") with its default, and caps large ones."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    try:
        number = int(value)
    except ValueError:
        return value
    return None if number <= 0 else min(number, MAX_LIMIT)


def _page_offset(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return value
    try:
        number = int(value)
    except ValueError:
        return value
    return min(max(number, 0), MAX_OFFSET)


Limit = Annotated[int | None, BeforeValidator(_page_limit)]
Offset = Annotated[int | None, BeforeValidator(_page_offset)]


class FilterCriteria(_Lenient):
    attributeName: str | None = None
    operator: str | None = None
    attributeValue: Any = None
    condition: Literal["AND", "OR", "and", "or"] | None = None
    criterion: list[FilterCriteria] | None = None


class SearchParameters(_Lenient):
    query: str | None = Field(None, max_length=4096)
    typeName: str | None = Field(None, max_length=255)
    classification: str | None = Field(None, max_length=255)
    termName: str | None = None
    sortBy: str | None = None
    sortOrder: Literal["ASCENDING", "DESCENDING"] | None = None
    excludeDeletedEntities: bool | None = None
    includeClassificationAttributes: bool | None = None
    includeSubTypes: bool | None = None
    includeSubClassifications: bool | None = None
    limit: Limit = None
    offset: Offset = None
    entityFilters: FilterCriteria | None = None
    tagFilters: FilterCriteria | None = None
    attributes: list[str] | None = None


# -- deid extensions ---------------------------------------------------------------------------------------


Role = Literal["viewer", "steward", "admin"]


class UserCreate(_Lenient):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role


class UserUpdate(_Lenient):
    password: str | None = Field(None, min_length=8, max_length=1024)
    role: Role | None = None


class AuditRecord(_Lenient):
    """An audited action that is not an entity write (re-identification, erasure, key rotation, …)."""

    action: str = Field(pattern=r"^[A-Z][A-Z0-9_]{2,63}$")
    entityGuid: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    typeName: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    details: dict[str, Any] | None = None
