"""A profile → an Avro record schema for a domain's raw events.

Namespace `deid.<domain>`, name `<Domain>Raw`. Nested records, arrays and maps follow the profile; a field
that was null or missing in some record is `["null", T]` with default null; whole numbers are `int` when
every value fits 32 bits, else `long`; a field holding several types is a union ordered by frequency.
Dates and timestamps stay strings (or longs, for epoch millis) and carry what they are as type attributes:
`{"type": "string", "deid.kind": "date", "deid.format": "%d-%m-%Y"}`; `field_formats` reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastavro import parse_schema

from schema_inference.profile import ProfileSummary
from schema_inference.stats import AVRO_NAME, FieldProfile

KIND = "deid.kind"
FORMAT = "deid.format"
FORMAT_ALTERNATIVES = "deid.format_alternatives"
SOURCE_NAME = "deid.source_name"  # the JSON key, when it is not a valid Avro name


def record_name(domain: str) -> tuple[str, str]:
    """(namespace, name) of a domain's raw schema: ("deid.channel", "ChannelRaw")."""
    return f"deid.{domain}", "".join(part.capitalize() for part in domain.split("_")) + "Raw"


def profile_to_avro(summary: ProfileSummary, domain: str, doc: str | None = None) -> dict[str, Any]:
    """The Avro schema of the profiled records, checked by fastavro."""
    namespace, name = record_name(domain)
    builder = _Builder(name)
    schema: dict[str, Any] = {"type": "record", "name": name, "namespace": namespace}
    if doc:
        schema["doc"] = doc
    schema["fields"] = builder.fields(summary.fields, prefix=name, sanitize=True)
    parse_schema(schema, _write_hint=False)  # raises on anything Avro would refuse
    return schema


class _Builder:
    def __init__(self, root: str) -> None:
        self.names = {root}

    def fields(self, profiles: list[FieldProfile], prefix: str, sanitize: bool = False) -> list[dict[str, Any]]:
        out = []
        used = {p.name for p in profiles if AVRO_NAME.fullmatch(p.name)}  # valid names keep theirs
        for profile in profiles:
            name = profile.name
            if sanitize and not AVRO_NAME.fullmatch(name):
                name = _avro_name(name, used)
                used.add(name)
            entry: dict[str, Any] = {"name": name, "type": self.type_of(profile, f"{prefix}_{name}", profile.nullable)}
            if name != profile.name:
                entry[SOURCE_NAME] = profile.name
            if _accepts_null(entry["type"]):
                entry["default"] = None
            out.append(entry)
        return out

    def type_of(self, profile: FieldProfile | None, record_name: str, nullable: bool) -> Any:
        branches = self._branches(profile, record_name) if profile is not None else []
        if not branches:
            return "null"
        if nullable:
            return ["null", *branches]
        return branches[0] if len(branches) == 1 else branches

    def _branches(self, profile: FieldProfile, record_name: str) -> list[Any]:
        types, found = profile.types, []
        if types.get("boolean"):
            found.append((types["boolean"], "boolean"))
        numbers = types.get("int", 0) + types.get("long", 0) + types.get("double", 0)
        if numbers:
            number = "double" if types.get("double") else "long" if types.get("long") else "int"
            if profile.kind and not types.get("string") and number != "double":  # epoch millis
                number = {"type": number, KIND: profile.kind, FORMAT: profile.format}
            found.append((numbers, number))
        if types.get("string"):
            text: Any = "string"
            if profile.kind and profile.format:
                text = {"type": "string", KIND: profile.kind, FORMAT: profile.format}
                if profile.format_alternatives:
                    text[FORMAT_ALTERNATIVES] = list(profile.format_alternatives)
            found.append((types["string"], text))
        if types.get("record"):
            found.append((types["record"], self._record(profile, record_name)))
        if types.get("array"):
            items = profile.items
            items_type = self.type_of(items, f"{record_name}_item", bool(items and items.nulls))
            found.append((types["array"], {"type": "array", "items": items_type}))
        if types.get("map"):
            values = profile.values
            values_type = self.type_of(values, f"{record_name}_value", bool(values and values.nulls))
            found.append((types["map"], {"type": "map", "values": values_type}))
        found.sort(key=lambda pair: -pair[0])  # stable: ties keep the order above
        return [schema for _, schema in found]

    def _record(self, profile: FieldProfile, wanted: str) -> dict[str, Any]:
        name, suffix = wanted, 2
        while name in self.names:
            name, suffix = f"{wanted}_{suffix}", suffix + 1
        self.names.add(name)
        return {"type": "record", "name": name, "fields": self.fields(profile.fields, prefix=name)}


def _avro_name(key: str, used: set[str]) -> str:
    """An invalid key as a valid Avro field name, unique among `used` (only top-level keys can need this:
    nested objects with such keys are profiled as maps)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", key) or "_"
    if not AVRO_NAME.fullmatch(base):
        base = f"_{base}"
    name, suffix = base, 2
    while name in used:
        name, suffix = f"{base}_{suffix}", suffix + 1
    return name


def _accepts_null(schema: Any) -> bool:
    return schema == "null" or (isinstance(schema, list) and schema[0] == "null")


def field_formats(schema: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{field path: {"kind": …, "format": …}} for every date/timestamp in a schema made by profile_to_avro."""
    return {path: {"kind": t[KIND], "format": t[FORMAT]} for path, t in _typed(schema["fields"], "")}


def _typed(fields: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in fields:
        yield from _walk_type(entry["type"], prefix + entry.get(SOURCE_NAME, entry["name"]))


def _walk_type(schema: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, list):
        for branch in schema:
            yield from _walk_type(branch, path)
    elif isinstance(schema, dict):
        if KIND in schema:
            yield path, schema
        elif schema["type"] == "record":
            yield from _typed(schema["fields"], path + ".")
        elif schema["type"] == "array":
            yield from _walk_type(schema["items"], path + "[]")
        elif schema["type"] == "map":
            yield from _walk_type(schema["values"], path + "{}")
