"""Atlas's type system, compiled from typedef documents: inheritance, attributes (own, inherited and
relationship-backed), and validation of attribute values.

A `TypeRegistry` is immutable; the store rebuilds it when typedefs change. It never touches the
database, so it can also check a candidate set of typedefs before they are written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from catalog.server.errors import AtlasError, Code
from deid.tags import LEGACY_PII, PII

PRIMITIVES = frozenset(
    {"boolean", "byte", "short", "int", "long", "float", "double", "biginteger", "bigdecimal", "string", "date"}
)
CATEGORIES = ("ENUM", "STRUCT", "CLASSIFICATION", "ENTITY", "RELATIONSHIP", "BUSINESS_METADATA")
# AtlasTypesDef key per category, in the order Atlas creates them.
LIST_KEYS = {
    "ENUM": "enumDefs",
    "STRUCT": "structDefs",
    "CLASSIFICATION": "classificationDefs",
    "ENTITY": "entityDefs",
    "RELATIONSHIP": "relationshipDefs",
    "BUSINESS_METADATA": "businessMetadataDefs",
}
CARDINALITIES = ("SINGLE", "LIST", "SET")
_INT_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "date": (-(2**63), 2**63 - 1),
}
_ARRAY = re.compile(r"^array<(.+)>$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_MAP = re.compile(r"^map<([^,]+),(.+)>$")


@dataclass(frozen=True)
class Attribute:
    name: str
    type_name: str
    optional: bool
    cardinality: str
    unique: bool
    defined_in: str


@dataclass(frozen=True)
class RelationshipEnd:
    """A relationship attribute as seen from the entity holding it (at `side` of `relationship`)."""

    relationship: str
    name: str
    side: int
    target_type: str
    cardinality: str
    legacy: bool

    @property
    def many(self) -> bool:
        return self.cardinality != "SINGLE"


@dataclass
class StructuredType:
    """An entity, classification, struct or business-metadata type with everything it inherits."""

    name: str
    category: str
    definition: dict[str, Any]
    all_super_types: set[str] = field(default_factory=set)
    all_sub_types: set[str] = field(default_factory=set)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    relationship_attributes: dict[str, list[RelationshipEnd]] = field(default_factory=dict)

    @property
    def unique_attributes(self) -> list[str]:
        return [a.name for a in self.attributes.values() if a.unique]

    def type_and_sub_types(self) -> set[str]:
        return {self.name, *self.all_sub_types}


class TypeRegistry:
    """All typedefs, by name, with resolved hierarchy and relationship attributes."""

    def __init__(self, definitions: Iterable[dict[str, Any]]) -> None:
        self.definitions: dict[str, dict[str, Any]] = {d["name"]: d for d in definitions}
        self.structured: dict[str, StructuredType] = {}
        for name, definition in self.definitions.items():
            if definition["category"] in ("ENTITY", "CLASSIFICATION", "STRUCT", "BUSINESS_METADATA"):
                self.structured[name] = StructuredType(name, definition["category"], definition)
        self._resolve_hierarchy()
        self._resolve_attributes()
        self._resolve_relationships()

    # -- lookups ---------------------------------------------------------------------------------

    def category(self, name: str) -> str | None:
        definition = self.definitions.get(name)
        return definition["category"] if definition else None

    def get(self, name: str) -> dict[str, Any] | None:
        return self.definitions.get(name)

    def entity_type(self, name: str) -> StructuredType | None:
        found = self.structured.get(name)
        return found if found and found.category == "ENTITY" else None

    def classification_type(self, name: str) -> StructuredType | None:
        found = self.structured.get(name)
        return found if found and found.category == "CLASSIFICATION" else None

    def search_classification(self, name: str) -> StructuredType | None:
        """A classification named in a search; `PII` means deid's `deid_PII` while no type is called `PII`."""
        found = self.classification_type(name)
        if found is None and name == LEGACY_PII:
            return self.classification_type(PII)
        return found

    def names(self, category: str) -> list[str]:
        return sorted(n for n, d in self.definitions.items() if d["category"] == category)

    def is_a(self, type_name: str, ancestor: str) -> bool:
        found = self.structured.get(type_name)
        return found is not None and (type_name == ancestor or ancestor in found.all_super_types)

    def direct_sub_types(self, name: str) -> list[str]:
        return sorted(n for n, s in self.structured.items() if name in (s.definition.get("superTypes") or []))

    def relationship_attribute(self, entity: StructuredType, name: str, target_type: str | None) -> RelationshipEnd:
        """The relationship end `name` of `entity`, chosen by the referenced entity's type when several match."""
        ends = entity.relationship_attributes[name]
        if target_type is not None:
            for end in ends:
                if self.is_a(target_type, end.target_type):
                    return end
        return ends[0]

    def references_entities(self, type_name: str) -> bool:
        """True for an entity type or a collection of one (values are AtlasObjectIds)."""
        element = element_type(type_name)
        return self.entity_type(element) is not None

    # -- building ----------------------------------------------------------------------------------

    def _resolve_hierarchy(self) -> None:
        for name, info in self.structured.items():
            seen: list[str] = []
            stack = list(info.definition.get("superTypes") or [])
            while stack:
                parent = stack.pop()
                if parent == name:
                    raise AtlasError(Code.CIRCULAR_REFERENCE, name, name)
                if parent in seen:
                    continue
                seen.append(parent)
                parent_info = self.structured.get(parent)
                if parent_info is None or parent_info.category != info.category:
                    raise AtlasError(
                        Code.INVALID_TYPE_DEFINITION,
                        f"{name}: supertype {parent} is not a known {info.category.lower()} type",
                    )
                stack.extend(parent_info.definition.get("superTypes") or [])
            info.all_super_types = set(seen)
        for name, info in self.structured.items():
            for parent in info.all_super_types:
                self.structured[parent].all_sub_types.add(name)

    def _ordered_ancestry(self, name: str) -> list[str]:
        """Supertypes before subtypes (depth first, declaration order), ending with `name`."""
        order: list[str] = []

        def visit(type_name: str) -> None:
            for parent in self.structured[type_name].definition.get("superTypes") or []:
                visit(parent)
            if type_name not in order:
                order.append(type_name)

        visit(name)
        return order

    def _resolve_attributes(self) -> None:
        for name, info in self.structured.items():
            for type_name in self._ordered_ancestry(name):
                for attr in self.structured[type_name].definition.get("attributeDefs") or []:
                    if attr["name"] in info.attributes and info.attributes[attr["name"]].defined_in != type_name:
                        raise AtlasError(
                            Code.INVALID_TYPE_DEFINITION,
                            f"{type_name}.{attr['name']}: already defined in supertype "
                            f"{info.attributes[attr['name']].defined_in}",
                        )
                    info.attributes[attr["name"]] = Attribute(
                        name=attr["name"],
                        type_name=attr["typeName"],
                        optional=bool(attr.get("isOptional")),
                        cardinality=attr.get("cardinality") or "SINGLE",
                        unique=bool(attr.get("isUnique")),
                        defined_in=type_name,
                    )

    def _resolve_relationships(self) -> None:
        for name, definition in self.definitions.items():
            if definition["category"] != "RELATIONSHIP":
                continue
            ends = (definition["endDef1"], definition["endDef2"])
            for end in ends:
                if self.entity_type(end["type"]) is None:
                    raise AtlasError(Code.RELATIONSHIPDEF_INVALID_END_TYPE, name, end["type"])
            for side, (end, other) in enumerate((ends, ends[::-1]), start=1):
                holder = self.entity_type(end["type"])
                assert holder is not None
                rel_end = RelationshipEnd(
                    relationship=name,
                    name=end["name"],
                    side=side,
                    target_type=other["type"],
                    cardinality=end.get("cardinality") or "SINGLE",
                    legacy=bool(end.get("isLegacyAttribute")),
                )
                for type_name in holder.type_and_sub_types():
                    self.structured[type_name].relationship_attributes.setdefault(end["name"], []).append(rel_end)

    # -- checking typedefs ---------------------------------------------------------------------------

    def check_attribute_types(self, names: Iterable[str]) -> None:
        """Every attribute of the named types has a resolvable type (400 ATLAS-400-00-001 otherwise)."""
        for name in names:
            definition = self.definitions[name]
            for attr in definition.get("attributeDefs") or []:
                if not self.type_exists(attr["typeName"]):
                    raise AtlasError(Code.UNKNOWN_TYPE, attr["typeName"], name, attr["name"])
                if self.category(element_type(attr["typeName"])) in ("CLASSIFICATION", "RELATIONSHIP"):
                    raise AtlasError(Code.ATTRIBUTE_TYPE_INVALID, name, attr["name"])
            for entity_type in definition.get("entityTypes") or []:
                if self.entity_type(entity_type) is None:
                    raise AtlasError(Code.CLASSIFICATIONDEF_INVALID_ENTITYTYPES, name, entity_type)

    def type_exists(self, type_name: str) -> bool:
        if type_name in PRIMITIVES or type_name in self.definitions:
            return True
        if (match := _ARRAY.match(type_name)) is not None:
            return self.type_exists(match.group(1).strip())
        if (match := _MAP.match(type_name)) is not None:
            return self.type_exists(match.group(1).strip()) and self.type_exists(match.group(2).strip())
        return False

    # -- checking values -----------------------------------------------------------------------------

    def check_value(self, type_name: str, value: Any, path: str) -> Any:
        """The value normalised for storage, or AtlasError INVALID_VALUE naming `path` and the type.

        Entity references are not handled here (the entity service resolves them first)."""
        if value is None:
            return None
        if type_name in PRIMITIVES:
            return _check_primitive(type_name, value, path)
        if (match := _ARRAY.match(type_name)) is not None:
            if not isinstance(value, list):
                raise AtlasError(Code.INVALID_VALUE, f"{path}: expected a list of {match.group(1)}")
            return [self.check_value(match.group(1).strip(), v, f"{path}[{i}]") for i, v in enumerate(value)]
        if (match := _MAP.match(type_name)) is not None:
            if not isinstance(value, dict):
                raise AtlasError(Code.INVALID_VALUE, f"{path}: expected a map of {match.group(2)}")
            return {
                str(_check_primitive(match.group(1).strip(), k, f"{path} key")): self.check_value(
                    match.group(2).strip(), v, f"{path}[{k}]"
                )
                for k, v in value.items()
            }
        category = self.category(type_name)
        if category == "ENUM":
            return self._check_enum(type_name, value, path)
        if category == "STRUCT":
            return self.check_struct(type_name, value, path)
        raise AtlasError(Code.INVALID_VALUE, f"{path}: values of type {type_name} are not supported here")

    def _check_enum(self, type_name: str, value: Any, path: str) -> str:
        elements = self.definitions[type_name].get("elementDefs") or []
        for element in elements:
            if value == element["value"] or (isinstance(value, int) and value == element.get("ordinal")):
                return str(element["value"])
        if isinstance(value, str):  # Atlas matches enum values case-insensitively ("Managed" → MANAGED)
            for element in elements:
                if value.lower() == str(element["value"]).lower():
                    return str(element["value"])
        allowed = ", ".join(str(e["value"]) for e in elements)
        raise AtlasError(Code.INVALID_VALUE, f"{path}: {value!r} is not one of {type_name}'s values ({allowed})")

    def check_struct(self, type_name: str, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise AtlasError(Code.INVALID_STRUCT_VALUE, f"{path}: expected an object of type {type_name}")
        attributes = value.get("attributes", value) if "typeName" in value else value
        if not isinstance(attributes, dict):
            raise AtlasError(Code.INVALID_STRUCT_VALUE, f"{path}: attributes must be an object")
        info = self.structured[type_name]
        return {"typeName": type_name, "attributes": self.check_attributes(info, attributes, path, partial=False)}

    def check_attributes(
        self, info: StructuredType, attributes: dict[str, Any], path: str, *, partial: bool
    ) -> dict[str, Any]:
        """Plain (non-reference) attributes of a struct, classification or entity, checked and normalised."""
        checked: dict[str, Any] = {}
        for name, value in attributes.items():
            attribute = info.attributes.get(name)
            if attribute is None:
                raise AtlasError(Code.UNKNOWN_ATTRIBUTE, name, info.name)
            checked[name] = self.check_value(attribute.type_name, value, f"{path}.{name}")
        if not partial:
            self.check_mandatory(info, checked)
        return checked

    def check_mandatory(self, info: StructuredType, values: dict[str, Any], skip: Iterable[str] = ()) -> None:
        skipped = set(skip)
        for attribute in info.attributes.values():
            if attribute.name in skipped or attribute.optional:
                continue
            if values.get(attribute.name) is None:
                raise AtlasError(Code.MISSING_MANDATORY_ATTRIBUTE, info.name, attribute.name)


def element_type(type_name: str) -> str:
    """`array<X>` → X, anything else unchanged."""
    match = _ARRAY.match(type_name)
    return match.group(1).strip() if match else type_name


def _iso_date_ms(value: str, bad: Callable[[str], AtlasError]) -> int:
    """Atlas stores dates as epoch milliseconds and parses ISO-8601 text ("2017-08-25T13:15:25.369Z")."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise bad("epoch milliseconds or an ISO-8601 date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _check_primitive(type_name: str, value: Any, path: str) -> Any:
    def bad(expected: str) -> AtlasError:
        return AtlasError(Code.INVALID_VALUE, f"{path}: expected {expected} ({type_name})")

    if type_name == "string":
        if isinstance(value, dict | list):
            raise bad("a string")
        return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if type_name == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad("true or false")
    if type_name == "date" and isinstance(value, str) and not _INTEGER.match(value.strip()):
        return _iso_date_ms(value, bad)
    if type_name in _INT_RANGES or type_name == "biginteger":
        number: Any = value
        if isinstance(value, bool):
            raise bad("an integer")
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise bad("an integer") from None
        if isinstance(number, float):
            if not number.is_integer():
                raise bad("an integer")
            number = int(number)
        if not isinstance(number, int):
            raise bad("an integer")
        low, high = _INT_RANGES.get(type_name, (None, None))
        if low is not None and not low <= number <= high:
            raise bad(f"an integer in [{low}, {high}]")
        return number
    # float, double, bigdecimal
    if isinstance(value, bool):
        raise bad("a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad("a number") from None
    if not math.isfinite(number):
        raise bad("a finite number")
    return value if isinstance(value, int | float) else number
