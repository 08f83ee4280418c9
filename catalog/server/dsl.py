"""A subset of Atlas's DSL, enough for look-ups by attribute:

    kafka_topic where qualifiedName = "channel-raw-data@eu"
    avro_field where name like "user*" and (type = "string" or type = "int") orderby name desc limit 10
    avro_field isa PII
    avro_field where avro_field isa PERSON
    PII                                     (entities with a PII tag, any subtype)

Comparisons: = != < > <= >= like (with * and ? wildcards), `isa`/`is` a classification (subtypes
included), `has` an attribute. `select`, `groupby` and path expressions are not supported and are
refused with Atlas's DSL error.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.server.errors import AtlasError, Code
from catalog.server.search import SYSTEM_ATTRIBUTES, matches
from catalog.server.typesystem import TypeRegistry

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<paren>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"where", "and", "or", "isa", "is", "has", "like", "limit", "offset", "orderby", "asc", "desc", "from"}
_UNSUPPORTED = {"select", "groupby", "count", "max", "min", "sum"}

Predicate = Callable[[Any], bool]


@dataclass
class DslQuery:
    type_name: str | None
    classification: str | None
    predicate: Predicate
    order_by: str | None
    descending: bool
    limit: int | None
    offset: int | None


@dataclass
class _Token:
    kind: str
    text: str


class DslParser:
    """Parses one query against the registry; `record_view` supplies attributes and tags of a candidate."""

    def __init__(self, query: str, registry: TypeRegistry) -> None:
        self.query = query
        self.registry = registry
        self.tokens = self._tokenize(query)
        self.position = 0
        self.type_name: str | None = None

    def _error(self, reason: str) -> AtlasError:
        return AtlasError(Code.INVALID_DSL_QUERY, self.query, reason)

    def _tokenize(self, query: str) -> list[_Token]:
        tokens, index = [], 0
        while index < len(query):
            if query[index:].strip() == "":
                break
            match = _TOKEN.match(query, index)
            if match is None:
                raise self._error(f"unexpected character at position {index}")
            kind = match.lastgroup or "word"
            text = match.group(kind)
            if kind == "word" and text.lower() in _KEYWORDS:
                kind, text = "keyword", text.lower()
            elif kind == "word" and text.lower() in _UNSUPPORTED:
                raise self._error(f"'{text}' is not supported by this catalog")
            tokens.append(_Token(kind, text))
            index = match.end()
        return tokens

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self, expected: str | None = None) -> _Token:
        token = self._peek()
        if token is None:
            raise self._error("unexpected end of query" + (f", expected {expected}" if expected else ""))
        self.position += 1
        return token

    def _accept(self, kind: str, text: str | None = None) -> bool:
        token = self._peek()
        if token is not None and token.kind == kind and (text is None or token.text == text):
            self.position += 1
            return True
        return False

    def parse(self) -> DslQuery:
        self._accept("keyword", "from")
        source = self._next("a type name")
        if source.kind != "word":
            raise self._error("a query starts with a type or classification name")
        type_name, classification = None, None
        if self.registry.entity_type(source.text) is not None:
            type_name = source.text
        elif self.registry.search_classification(source.text) is not None:
            classification = source.text
        else:
            raise AtlasError(Code.INVALID_DSL_UNKNOWN_TYPE, source.text)
        self.type_name = type_name
        predicate: Predicate = lambda _view: True  # noqa: E731
        if self._accept("keyword", "isa") or self._accept("keyword", "is"):
            predicate = self._isa(self._next("a classification").text)
        if self._accept("keyword", "where"):
            condition = self._expression()
            first = predicate
            predicate = lambda view: first(view) and condition(view)  # noqa: E731
        order_by, descending, limit, offset = None, False, None, None
        if self._accept("keyword", "orderby"):
            order_by = self._attribute(self._next("an attribute").text)
            descending = self._accept("keyword", "desc")
            if not descending:
                self._accept("keyword", "asc")
        if self._accept("keyword", "limit"):
            limit = self._integer()
        if self._accept("keyword", "offset"):
            offset = self._integer()
        if self._peek() is not None:
            raise self._error(f"unexpected '{self._peek().text}'")  # type: ignore[union-attr]
        return DslQuery(type_name, classification, predicate, order_by, descending, limit, offset)

    def _integer(self) -> int:
        token = self._next("a number")
        if token.kind != "number" or "." in token.text or token.text.startswith("-"):
            raise self._error("limit and offset take a non-negative integer")
        return int(token.text)

    def _expression(self) -> Predicate:
        parts = [self._conjunction()]
        while self._accept("keyword", "or"):
            parts.append(self._conjunction())
        return parts[0] if len(parts) == 1 else (lambda view: any(p(view) for p in parts))

    def _conjunction(self) -> Predicate:
        parts = [self._factor()]
        while self._accept("keyword", "and"):
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda view: all(p(view) for p in parts))

    def _factor(self) -> Predicate:
        if self._accept("paren", "("):
            inner = self._expression()
            if not self._accept("paren", ")"):
                raise self._error("missing ')'")
            return inner
        if self._accept("keyword", "has"):
            name = self._attribute(self._next("an attribute").text)
            return lambda view: view.attribute(name) is not None
        if self._accept("keyword", "isa") or self._accept("keyword", "is"):
            return self._isa(self._next("a classification").text)
        token = self._next("a condition")
        if token.kind != "word":
            raise self._error(f"expected an attribute name, found '{token.text}'")
        if self._accept("keyword", "isa") or self._accept("keyword", "is"):
            return self._isa(self._next("a classification").text)
        name = self._attribute(token.text)
        if self._accept("keyword", "like"):
            pattern = self._value()
            return lambda view: _like(view.attribute(name), pattern)
        operator = self._next("a comparison")
        if operator.kind != "op":
            raise self._error(f"expected a comparison after {name}, found '{operator.text}'")
        value = self._value()
        return lambda view: matches(operator.text, view.attribute(name), value)

    def _attribute(self, name: str) -> str:
        if self.type_name is not None and "." in name:
            prefix, _, rest = name.partition(".")
            if prefix == self.type_name:
                name = rest
        if name in SYSTEM_ATTRIBUTES:
            return name
        info = self.registry.entity_type(self.type_name) if self.type_name else None
        if info is not None and name not in info.attributes:
            raise AtlasError(Code.INVALID_DSL_UNKNOWN_ATTR_TYPE, name, self.type_name)
        return name

    def _value(self) -> Any:
        token = self._next("a value")
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        raise self._error(f"expected a quoted string, number or boolean, found '{token.text}'")

    def _isa(self, classification: str) -> Predicate:
        info = self.registry.search_classification(classification)
        if info is None:
            raise AtlasError(Code.INVALID_DSL_UNKNOWN_CLASSIFICATION, classification)
        names = info.type_and_sub_types()
        return lambda view: bool(names & view.tags)


def _like(actual: Any, pattern: Any) -> bool:
    if isinstance(actual, list):
        return any(_like(item, pattern) for item in actual)
    return actual is not None and fnmatch.fnmatchcase(str(actual), str(pattern))


class _View:
    """What a DSL predicate sees of one entity."""

    def __init__(self, record: Any, tags: set[str]) -> None:
        self.record = record
        self.tags = tags

    def attribute(self, name: str) -> Any:
        if name in SYSTEM_ATTRIBUTES:
            return SYSTEM_ATTRIBUTES[name](self.record)
        return self.record.attributes.get(name)


def run_dsl(searcher: Any, query: str, limit: int | None, offset: int | None) -> dict[str, Any]:
    """Execute `query` with a `catalog.server.search.Searcher`; AtlasSearchResult of type DSL."""
    parsed = DslParser(query, searcher.registry).parse()
    types = searcher.entity_types(parsed.type_name, True)
    records = searcher.reader.entities.of_types(types, include_deleted=False)
    tags = searcher.reader.classifications.of_entities([r.guid for r in records])
    views = [(r, _View(r, {t.type_name for t in tags.get(r.guid, [])})) for r in records]
    if parsed.classification is not None:
        wanted = searcher.classification_names(parsed.classification, True)
        views = [(r, v) for r, v in views if v.tags & wanted]
    selected = [r for r, v in views if parsed.predicate(v)]
    selected = searcher.sorted_by(selected, parsed.order_by, parsed.descending)
    start = offset if offset is not None else parsed.offset or 0
    count = limit if limit is not None else parsed.limit or 100
    page = selected[start : start + count]
    return {
        "queryType": "DSL",
        "queryText": query,
        "entities": searcher.reader.headers(page),
        "approximateCount": len(selected),
    }
