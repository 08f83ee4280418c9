"""Atlas basic search: by type (with subtypes), classification (with subclassifications), free text,
entityFilters and tagFilters (nested AND/OR criteria), sorted and paged.

Candidates are selected in SQL by type, state and classification; attribute filters run in Python
over the candidates (catalogs of topics and fields are thousands of entities, not millions).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.glossary import ASSIGNMENT, TERM
from catalog.server.models import FilterCriteria, SearchParameters
from catalog.server.typesystem import TypeRegistry
from catalog.server.views import EntityReader
from catalog.store.repository import EntityRecord, loads

ALL_ENTITY_TYPES = "_ALL_ENTITY_TYPES"
ANY_CLASSIFICATION = ("*", "_CLASSIFIED", "_ALL_CLASSIFICATION_TYPES")
NOT_CLASSIFIED = "_NOT_CLASSIFIED"
DEFAULT_LIMIT = 100
MAX_CRITERIA_DEPTH = 16

# Atlas's SearchParameters.Operator symbols and aliases -> one name.
_OPERATORS = {
    "<": "lt", "lt": "lt", ">": "gt", "gt": "gt", "<=": "lte", "lte": "lte", ">=": "gte", "gte": "gte",
    "=": "eq", "eq": "eq", "==": "eq", "!=": "neq", "neq": "neq", "in": "in", "like": "like",
    "startswith": "startswith", "begins_with": "startswith", "endswith": "endswith", "ends_with": "endswith",
    "contains": "contains", "not_contains": "not_contains", "is_null": "is_null", "isnull": "is_null",
    "not_null": "not_null", "notnull": "not_null", "not_empty": "not_empty", "notempty": "not_empty",
}  # fmt: skip

SYSTEM_ATTRIBUTES: dict[str, Callable[[EntityRecord], Any]] = {
    "__guid": lambda r: r.guid,
    "__typeName": lambda r: r.row.type_name,
    "__state": lambda r: r.row.status,
    "__createdBy": lambda r: r.row.created_by,
    "__modifiedBy": lambda r: r.row.updated_by,
    "__timestamp": lambda r: r.row.create_time,
    "__modificationTimestamp": lambda r: r.row.update_time,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(actual: Any, expected: Any) -> int | None:
    """-1/0/1, numerically when both sides are numbers, else as strings; None when incomparable."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        actual = str(actual).lower()
    if isinstance(expected, bool):
        expected = str(expected).lower()
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    a, b = str(actual), str(expected)
    return (a > b) - (a < b)


def matches(operator: str, actual: Any, expected: Any) -> bool:
    """One filter condition; a list-valued attribute matches when any element does."""
    op = _OPERATORS.get(operator.lower() if operator else "")
    if op is None:
        raise AtlasError(Code.INVALID_PARAMETERS, f"unknown search operator {operator!r}")
    if op == "is_null":
        return actual is None or actual == "" or actual == []
    if op in ("not_null", "not_empty"):
        return not (actual is None or actual == "" or actual == [])
    if op == "not_contains":
        return not matches("contains", actual, expected)
    if op == "neq":
        return not matches("eq", actual, expected)
    if isinstance(actual, list):
        return any(matches(operator, item, expected) for item in actual)
    if actual is None:
        return False
    if op == "in":
        options = expected if isinstance(expected, list) else str(expected).split(",")
        return any(_compare(actual, option.strip() if isinstance(option, str) else option) == 0 for option in options)
    if op in ("eq", "lt", "gt", "lte", "gte"):
        order = _compare(actual, expected)
        if order is None:
            return False
        return {"eq": order == 0, "lt": order < 0, "gt": order > 0, "lte": order <= 0, "gte": order >= 0}[op]
    text, pattern = str(actual).lower(), str(expected).lower()
    if op == "like":
        return fnmatch.fnmatchcase(text, pattern)
    if op == "startswith":
        return text.startswith(pattern)
    if op == "endswith":
        return text.endswith(pattern)
    return pattern in text  # contains


def criteria_predicate(
    criteria: FilterCriteria | None, lookup: Callable[[str], Any], check_name: Callable[[str], None], depth: int = 0
) -> Callable[[], bool]:
    """A zero-argument predicate evaluating `criteria` with `lookup(attributeName)`."""
    if criteria is None:
        return lambda: True
    if depth > MAX_CRITERIA_DEPTH:
        raise AtlasError(Code.INVALID_PARAMETERS, "search criteria nested too deeply")
    if criteria.criterion:
        parts = [criteria_predicate(c, lookup, check_name, depth + 1) for c in criteria.criterion]
        if (criteria.condition or "AND").upper() == "OR":
            return lambda: any(part() for part in parts)
        return lambda: all(part() for part in parts)
    if not criteria.attributeName:
        if criteria.operator:
            raise AtlasError(Code.INVALID_PARAMETERS, "a filter needs attributeName")
        return lambda: True
    name, operator, expected = criteria.attributeName, criteria.operator or "eq", criteria.attributeValue
    check_name(name)
    matches(operator, None, expected)  # rejects an unknown operator up front
    return lambda: matches(operator, lookup(name), expected)


class Searcher:
    def __init__(self, session: Session, registry: TypeRegistry) -> None:
        self.session = session
        self.registry = registry
        self.reader = EntityReader(session, registry)

    def entity_types(self, type_name: str | None, include_sub_types: bool) -> set[str]:
        if type_name in (None, "", ALL_ENTITY_TYPES):
            return set(self.registry.names("ENTITY"))
        info = self.registry.entity_type(type_name)  # type: ignore[arg-type]
        if info is None:
            raise AtlasError(Code.UNKNOWN_TYPENAME, type_name)
        return info.type_and_sub_types() if include_sub_types else {info.name}

    def classification_names(self, classification: str, include_sub: bool) -> set[str] | None:
        """Classification names to match; None means any classification."""
        if classification in ANY_CLASSIFICATION:
            return None
        info = self.registry.search_classification(classification)
        if info is None:
            raise AtlasError(Code.UNKNOWN_CLASSIFICATION, classification)
        return info.type_and_sub_types() if include_sub else {info.name}

    def basic(self, params: SearchParameters) -> dict[str, Any]:
        if not (params.typeName or params.classification or params.query or params.termName):
            raise AtlasError(Code.INVALID_SEARCH_PARAMS)
        types = self.entity_types(params.typeName, params.includeSubTypes is not False)
        single_type = self.registry.entity_type(params.typeName or "") if params.typeName else None
        records = self.reader.entities.of_types(types, include_deleted=params.excludeDeletedEntities is False)
        tags = self.reader.classifications.of_entities([r.guid for r in records])
        tag_names: set[str] | None = set()
        if params.classification:
            if params.classification == NOT_CLASSIFIED:
                records = [r for r in records if not tags.get(r.guid)]
                tag_names = set()
            else:
                tag_names = self.classification_names(
                    params.classification, params.includeSubClassifications is not False
                )
                records = [
                    r
                    for r in records
                    if any(tag_names is None or t.type_name in tag_names for t in tags.get(r.guid, []))
                ]
        if params.termName:
            assigned = self._assigned_to_term(params.termName)
            records = [r for r in records if r.guid in assigned]
        if params.entityFilters is not None:
            records = [r for r in records if self._entity_filter(params.entityFilters, single_type)(r)]
        if params.tagFilters is not None and params.classification:
            records = [r for r in records if self._tag_filter(params.tagFilters, tags.get(r.guid, []), tag_names)]
        if params.query:
            tokens = [t.strip("*").lower() for t in params.query.split() if t.strip("*")]
            records = [r for r in records if _text_matches(r, tokens)]
        records = self.sorted_by(records, params.sortBy, params.sortOrder == "DESCENDING")
        offset, limit = params.offset or 0, params.limit or DEFAULT_LIMIT
        page = records[offset : offset + limit]
        return {
            "queryType": "BASIC",
            "searchParameters": params.model_dump(exclude_none=True),
            "entities": self.reader.headers(page, params.attributes or []),
            "approximateCount": len(records),
        }

    def _assigned_to_term(self, term_name: str) -> set[str]:
        """Guids of the entities a glossary term (by qualifiedName `term@glossary`, or name) is assigned to."""
        term = self.reader.entities.by_qualified_name([TERM], term_name)
        if term is None or term.row.status != "ACTIVE":
            candidates = self.reader.entities.of_types([TERM], include_deleted=False)
            named = [r for r in candidates if r.attributes.get("name") == term_name]
            if len(named) != 1:
                problem = "no glossary term" if not named else "several glossary terms are"
                raise AtlasError(Code.INVALID_PARAMETERS, f"{problem} named {term_name!r} (give term@glossary)")
            term = named[0]
        edges = self.reader.relationships.at_end(term.guid, 1, ASSIGNMENT)
        return {edge.end2_guid for edge in edges}

    def _entity_filter(self, criteria: FilterCriteria, info: Any) -> Callable[[EntityRecord], bool]:
        current: list[EntityRecord] = []

        def check_name(name: str) -> None:
            if info is not None and name not in info.attributes and name not in SYSTEM_ATTRIBUTES:
                raise AtlasError(Code.UNKNOWN_ATTRIBUTE, name, info.name)

        def lookup(name: str) -> Any:
            record = current[0]
            if name in SYSTEM_ATTRIBUTES:
                return SYSTEM_ATTRIBUTES[name](record)
            return record.attributes.get(name)

        predicate = criteria_predicate(criteria, lookup, check_name)

        def test(record: EntityRecord) -> bool:
            current[:] = [record]
            return predicate()

        return test

    def _tag_filter(self, criteria: FilterCriteria, tags: list[Any], names: set[str] | None) -> bool:
        for tag in tags:
            if names is not None and tag.type_name not in names:
                continue
            attributes = loads(tag.attributes) or {}
            if criteria_predicate(criteria, attributes.get, lambda _name: None)():
                return True
        return False

    @staticmethod
    def sorted_by(records: list[EntityRecord], sort_by: str | None, descending: bool) -> list[EntityRecord]:
        """Sorted by an attribute (numbers numerically); entities without a value come last either way."""
        name = sort_by or "qualifiedName"

        def value(record: EntityRecord) -> Any:
            return SYSTEM_ATTRIBUTES[name](record) if name in SYSTEM_ATTRIBUTES else record.attributes.get(name)

        present = [r for r in records if value(r) is not None]
        missing = sorted((r for r in records if value(r) is None), key=lambda r: r.guid)

        def key(record: EntityRecord) -> tuple[int, float, str, str]:
            number = _number(value(record))
            return (0 if number is not None else 1, number or 0.0, str(value(record)), record.guid)

        return sorted(present, key=key, reverse=descending) + missing


def _text_matches(record: EntityRecord, tokens: list[str]) -> bool:
    values = [str(v).lower() for v in record.attributes.values() if isinstance(v, str | int | float)]
    return all(any(token in value for value in values) for token in tokens)
