"""Avro schemas as the registry sees them: validated, normalised, fingerprinted.

`AvroSchema.parse(text)` checks a schema against the Avro specification (names, namespaces, field and
symbol uniqueness, unions, defaults) and fastavro's own parser, and builds its *normalised form*: names
fully qualified, no `namespace` keys, attributes in a fixed order, primitive types written as plain
strings, compact JSON. Two texts that differ only in layout, attribute order or how names are qualified
have the same normalised form, so the same fingerprint and the same registry id.

The normalised form keeps everything that changes how data is read (defaults, aliases, field order,
logical types, enum defaults) and, as Confluent's registry does, docs and custom properties. The Avro
*Parsing Canonical Form* drops all of those; it is exposed as `parsing_canonical_form` for writer/reader
identity, but it cannot be the registry's identity: a new version that only adds a default to a field
would collapse onto the old one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fastavro.schema import parse_schema, to_parsing_canonical_form

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIELD_ORDERS = frozenset({"ascending", "descending", "ignore"})
# Parsing Canonical Form's attribute order first, then everything else alphabetically.
_KEY_ORDER = {key: i for i, key in enumerate(("name", "type", "fields", "symbols", "items", "values", "size"))}
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_MAX_PATH_DEPTH = 200  # JSON-pointer segments: about 65 nested records

Node = Any  # a normalised schema node: primitive/name string, union list or type dict


class InvalidSchemaError(ValueError):
    """The text is not a valid Avro schema; the message says where (JSON path) and why."""


@dataclass(frozen=True)
class AvroSchema:
    """A valid Avro schema in normalised form, with its named types indexed by full name."""

    tree: Node
    names: dict[str, dict[str, Any]] = field(repr=False)
    text: str
    fingerprint: str  # SHA-256 of `text`: the registry's identity for "the same schema"

    @classmethod
    def parse(cls, text: str) -> AvroSchema:
        return _parse_cached(text)

    def resolve(self, node: Node) -> Node:
        """A reference to a named type replaced by its definition; any other node unchanged."""
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.names[node]
        return node

    @property
    def parsing_canonical_form(self) -> str:
        return to_parsing_canonical_form(parse_schema(json.loads(self.text), _write_hint=False))


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> AvroSchema:
    if not isinstance(text, str) or not text.strip():
        raise InvalidSchemaError("the schema is empty")
    try:
        raw = json.loads(text)
    except RecursionError:
        raise InvalidSchemaError("the schema is nested too deeply") from None
    except ValueError as exc:
        # A bare name such as `string` is valid Avro even though it is not JSON.
        if re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_.]*\s*", text):
            raw = text.strip()
        else:
            raise InvalidSchemaError(f"not JSON: {exc}") from None
    normaliser = _Normaliser()
    try:
        tree = normaliser.node(raw, None, "")
    except RecursionError:
        raise InvalidSchemaError("the schema is nested too deeply") from None
    canonical = json.dumps(tree, separators=(",", ":"), ensure_ascii=False)
    try:
        parse_schema(json.loads(canonical), _write_hint=False)
    except Exception as exc:  # fastavro raises several types; all mean "not a schema it can use"
        raise InvalidSchemaError(f"rejected by fastavro: {exc}") from None
    fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return AvroSchema(tree, normaliser.names, canonical, fingerprint)


def _ordered(attributes: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(attributes.items(), key=lambda item: (_KEY_ORDER.get(item[0], len(_KEY_ORDER)), item[0])))


def _check_name(name: Any, path: str, what: str = "name") -> str:
    if not isinstance(name, str) or not all(_NAME.fullmatch(part) for part in name.split(".")):
        raise InvalidSchemaError(f"{path or '/'}: {what} {name!r} is not a valid Avro name")
    return name


class _Normaliser:
    """One pass over the schema JSON: validates and builds the normalised tree and the name index."""

    def __init__(self) -> None:
        self.names: dict[str, dict[str, Any]] = {}

    def node(self, raw: Any, namespace: str | None, path: str) -> Node:
        if path.count("/") > _MAX_PATH_DEPTH:  # also keeps the compatibility walk far from Python's recursion limit
            raise InvalidSchemaError(f"{path}: the schema is nested too deeply")
        if isinstance(raw, str):
            return self.reference(raw, namespace, path)
        if isinstance(raw, list):
            return self.union(raw, namespace, path)
        if isinstance(raw, dict):
            return self.complex(raw, namespace, path)
        raise InvalidSchemaError(f"{path or '/'}: expected a type name, a union array or a type object")

    def reference(self, name: str, namespace: str | None, path: str) -> str:
        if name in PRIMITIVES:
            return name
        _check_name(name, path, "type name")
        candidates = [name] if "." in name else ([f"{namespace}.{name}"] if namespace else []) + [name]
        for candidate in candidates:
            if candidate in self.names:
                return candidate
        raise InvalidSchemaError(f"{path or '/'}: unknown type {name!r} (named types must be defined before use)")

    def union(self, raw: list[Any], namespace: str | None, path: str) -> list[Node]:
        if not raw:
            raise InvalidSchemaError(f"{path or '/'}: a union needs at least one type")
        branches, seen = [], set()
        for i, item in enumerate(raw):
            branch = self.node(item, namespace, f"{path}/{i}")
            if isinstance(branch, list):
                raise InvalidSchemaError(f"{path}/{i}: a union may not contain another union")
            key = self.branch_key(branch)
            if key in seen:
                raise InvalidSchemaError(f"{path}/{i}: the union has two branches of type {key!r}")
            seen.add(key)
            branches.append(branch)
        return branches

    def branch_key(self, branch: Node) -> str:
        """Unions may hold each unnamed type once and each named type once per name."""
        if isinstance(branch, str):
            return branch
        kind = branch["type"]
        return branch["name"] if kind in NAMED_TYPES else kind

    def complex(self, raw: dict[str, Any], namespace: str | None, path: str) -> Node:
        kind = raw.get("type")
        if kind is None:
            raise InvalidSchemaError(f"{path or '/'}: a type object needs a 'type'")
        if isinstance(kind, dict | list):  # {"type": {...}} wraps a type
            return self.node(kind, namespace, f"{path}/type")
        if not isinstance(kind, str):
            raise InvalidSchemaError(f"{path or '/'}: 'type' must be a string, an array or an object")
        extras = {k: v for k, v in raw.items() if k != "type"}
        if kind in PRIMITIVES:
            return _ordered({"type": kind, **extras}) if extras else kind
        if kind in ("record", "error"):
            return self.record(raw, namespace, path)
        if kind == "enum":
            return self.enum(raw, namespace, path)
        if kind == "fixed":
            return self.fixed(raw, namespace, path)
        if kind == "array":
            if "items" not in raw:
                raise InvalidSchemaError(f"{path or '/'}: an array needs 'items'")
            return _ordered({**extras, "type": "array", "items": self.node(raw["items"], namespace, f"{path}/items")})
        if kind == "map":
            if "values" not in raw:
                raise InvalidSchemaError(f"{path or '/'}: a map needs 'values'")
            return _ordered({**extras, "type": "map", "values": self.node(raw["values"], namespace, f"{path}/values")})
        # {"type": "com.acme.Thing"}: a reference to a named type
        return self.reference(kind, namespace, path)

    def define(self, raw: dict[str, Any], namespace: str | None, path: str) -> tuple[str, str | None]:
        """Full name and namespace of a named type, registered so that it may refer to itself."""
        name = _check_name(raw.get("name"), f"{path}/name")
        if "." in name:
            fullname, space = name, name.rsplit(".", 1)[0]
        else:
            space = raw.get("namespace", namespace)
            if space is not None and not isinstance(space, str):
                raise InvalidSchemaError(f"{path}/namespace: must be a string")
            if space:
                _check_name(space, f"{path}/namespace", "namespace")
            fullname = f"{space}.{name}" if space else name
        if name in PRIMITIVES or fullname in PRIMITIVES:
            raise InvalidSchemaError(f"{path}/name: {name!r} is a primitive type name")
        if fullname in self.names:
            raise InvalidSchemaError(f"{path}/name: type {fullname!r} is defined twice")
        return fullname, space or None

    def aliases(self, raw: dict[str, Any], space: str | None, path: str) -> list[str] | None:
        if "aliases" not in raw:
            return None
        aliases = raw["aliases"]
        if not isinstance(aliases, list):
            raise InvalidSchemaError(f"{path}/aliases: must be an array of names")
        named = [_check_name(a, f"{path}/aliases/{i}", "alias") for i, a in enumerate(aliases)]
        return [a if "." in a or not space else f"{space}.{a}" for a in named]

    def common(self, raw: dict[str, Any], skip: set[str]) -> dict[str, Any]:
        return {k: v for k, v in raw.items() if k not in skip | {"type", "name", "namespace", "aliases"}}

    def record(self, raw: dict[str, Any], namespace: str | None, path: str) -> dict[str, Any]:
        fullname, space = self.define(raw, namespace, path)
        node: dict[str, Any] = {"type": raw["type"], "name": fullname}
        self.names[fullname] = node  # before the fields: a record may contain itself
        aliases = self.aliases(raw, space, path)
        fields = raw.get("fields")
        if not isinstance(fields, list):
            raise InvalidSchemaError(f"{path}/fields: a record needs a 'fields' array")
        node["fields"], seen = [], set()
        for i, item in enumerate(fields):
            where = f"{path}/fields/{i}"
            if not isinstance(item, dict):
                raise InvalidSchemaError(f"{where}: a field must be an object")
            field_name = _check_name(item.get("name"), f"{where}/name", "field name")
            if "." in field_name:
                raise InvalidSchemaError(f"{where}/name: field name {field_name!r} may not contain dots")
            if field_name in seen:
                raise InvalidSchemaError(f"{where}/name: field {field_name!r} appears twice")
            seen.add(field_name)
            node["fields"].append(self.field(item, space, where))
        node.update(self.common(raw, {"fields"}))
        if aliases is not None:
            node["aliases"] = aliases
        ordered = _ordered(node)
        node.clear()
        node.update(ordered)  # same object: references made while parsing the fields stay valid
        return node

    def field(self, raw: dict[str, Any], space: str | None, path: str) -> dict[str, Any]:
        if "type" not in raw:
            raise InvalidSchemaError(f"{path}: field {raw['name']!r} needs a 'type'")
        out: dict[str, Any] = {"name": raw["name"], "type": self.node(raw["type"], space, f"{path}/type")}
        for key, value in raw.items():
            if key in ("name", "type"):
                continue
            if key == "aliases":
                if not isinstance(value, list) or not all(isinstance(a, str) and _NAME.fullmatch(a) for a in value):
                    raise InvalidSchemaError(f"{path}/aliases: must be an array of simple names")
            elif key == "order" and value not in _FIELD_ORDERS:
                raise InvalidSchemaError(f"{path}/order: must be ascending, descending or ignore")
            elif key == "default":
                problem = self.default_problem(out["type"], value)
                if problem:
                    raise InvalidSchemaError(f"{path}/default: invalid default for field {raw['name']!r}: {problem}")
            out[key] = value
        return _ordered(out)

    def enum(self, raw: dict[str, Any], namespace: str | None, path: str) -> dict[str, Any]:
        fullname, space = self.define(raw, namespace, path)
        symbols = raw.get("symbols")
        if not isinstance(symbols, list):
            raise InvalidSchemaError(f"{path}/symbols: an enum needs a 'symbols' array")
        for i, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.fullmatch(symbol):
                raise InvalidSchemaError(f"{path}/symbols/{i}: {symbol!r} is not a valid enum symbol")
        if len(set(symbols)) != len(symbols):
            raise InvalidSchemaError(f"{path}/symbols: enum symbols must be unique")
        if "default" in raw and raw["default"] not in symbols:
            raise InvalidSchemaError(f"{path}/default: the enum default must be one of its symbols")
        node = {"type": "enum", "name": fullname, **self.common(raw, set())}
        aliases = self.aliases(raw, space, path)
        if aliases is not None:
            node["aliases"] = aliases
        self.names[fullname] = node = _ordered(node)
        return node

    def fixed(self, raw: dict[str, Any], namespace: str | None, path: str) -> dict[str, Any]:
        fullname, space = self.define(raw, namespace, path)
        size = raw.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidSchemaError(f"{path}/size: a fixed type needs a non-negative integer 'size'")
        node = {"type": "fixed", "name": fullname, **self.common(raw, set())}
        aliases = self.aliases(raw, space, path)
        if aliases is not None:
            node["aliases"] = aliases
        self.names[fullname] = node = _ordered(node)
        return node

    def default_problem(self, node: Node, value: Any) -> str | None:
        """Why `value` (JSON) is not a valid default for `node`, or None (Avro spec, "default")."""
        node = self.names[node] if isinstance(node, str) and node not in PRIMITIVES else node
        if isinstance(node, list):  # a union's default belongs to its first branch
            problem = self.default_problem(node[0], value)
            return f"{problem} (a union's default must match its first type)" if problem else None
        kind = node if isinstance(node, str) else node["type"]
        if kind in ("record", "error"):
            if not isinstance(value, dict):
                return "expected an object"
            for item in node["fields"]:
                if item["name"] in value:
                    problem = self.default_problem(item["type"], value[item["name"]])
                    if problem:
                        return f"field {item['name']!r}: {problem}"
                elif "default" not in item:
                    return f"field {item['name']!r} is missing and has no default"
            return None
        if kind == "array":
            if not isinstance(value, list):
                return "expected an array"
            return next((p for v in value if (p := self.default_problem(node["items"], v))), None)
        if kind == "map":
            if not isinstance(value, dict):
                return "expected an object"
            return next((p for v in value.values() if (p := self.default_problem(node["values"], v))), None)
        if kind == "enum":
            return None if value in node["symbols"] else f"{value!r} is not one of the enum's symbols"
        if kind == "fixed":
            ok = isinstance(value, str) and len(value) == node["size"] and all(ord(c) < 256 for c in value)
            return None if ok else f"expected a string of {node['size']} characters in \\u0000-\\u00ff"
        return _primitive_default_problem(kind, value)


def _primitive_default_problem(kind: str, value: Any) -> str | None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    valid = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "int": is_int and _INT32[0] <= value <= _INT32[1],
        "long": is_int and _INT64[0] <= value <= _INT64[1],
        "float": is_int or isinstance(value, float),
        "double": is_int or isinstance(value, float),
        "bytes": isinstance(value, str) and all(ord(c) < 256 for c in value),
        "string": isinstance(value, str),
    }[kind]
    return None if valid else f"expected a JSON value of Avro type {kind}"
