"""Avro schema compatibility by the specification's schema-resolution rules (reader vs writer).

`reader_writer_incompatibilities(reader, writer)` answers "can data written with `writer` be read with
`reader`?" the way Avro's own `SchemaCompatibility` does: records match by unqualified name or a reader
alias; reader fields are found in the writer by name or by a reader field alias and, when absent, need a
default; int → long/float/double, long → float/double, float → double and string ↔ bytes are promotions;
every branch of a writer union must be readable; a reader union needs one branch that reads a non-union
writer; enums need every writer symbol unless the reader has an enum default; fixed types need the same
size; arrays and maps compare their items/values; recursive types terminate (a pair being checked is
assumed compatible while it is being checked).

`check_compatibility(level, new, previous)` applies a Confluent compatibility level to a candidate schema
and the subject's earlier versions and returns Confluent's verbose messages (empty = compatible).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catalog.registry.avro_schema import AvroSchema, Node

# reader type -> writer types it reads besides its own (Avro spec, "Schema Resolution")
_PROMOTIONS = {
    "long": {"int"},
    "float": {"int", "long"},
    "double": {"int", "long", "float"},
    "bytes": {"string"},
    "string": {"bytes"},
}


class CompatibilityLevel(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @classmethod
    def parse(cls, value: Any) -> CompatibilityLevel | None:
        """The level named by `value` (any letter case), or None."""
        if not isinstance(value, str):
            return None
        return cls.__members__.get(value.strip().upper())

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, not only the latest."""
        return self.name.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """The new schema must read data written with the old one(s)."""
        return self.name.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """The old schema(s) must read data written with the new one."""
        return self.name.startswith(("FORWARD", "FULL"))


DEFAULT_LEVEL = CompatibilityLevel.BACKWARD  # Confluent's default


class IncompatibilityType(StrEnum):
    """Avro's `SchemaIncompatibilityType` names, which Confluent reports as `errorType`."""

    NAME_MISMATCH = "NAME_MISMATCH"
    FIXED_SIZE_MISMATCH = "FIXED_SIZE_MISMATCH"
    MISSING_ENUM_SYMBOLS = "MISSING_ENUM_SYMBOLS"
    READER_FIELD_MISSING_DEFAULT_VALUE = "READER_FIELD_MISSING_DEFAULT_VALUE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    MISSING_UNION_BRANCH = "MISSING_UNION_BRANCH"


_DESCRIPTIONS = {
    IncompatibilityType.NAME_MISMATCH: "The name of the schema has changed (path '{path}')",
    IncompatibilityType.FIXED_SIZE_MISMATCH: (
        "The size of FIXED type field at path '{path}' in the {reader} does not match with the {writer}"
    ),
    IncompatibilityType.MISSING_ENUM_SYMBOLS: (
        "The {reader} is missing enum symbols '{info}' at path '{path}' in the {writer}"
    ),
    IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE: (
        "The field '{info}' at path '{path}' in the {reader} has no default value and is missing in the {writer}"
    ),
    IncompatibilityType.TYPE_MISMATCH: (
        "The type (path '{path}') of a field in the {reader} does not match with the {writer}"
    ),
    IncompatibilityType.MISSING_UNION_BRANCH: (
        "The {reader} is missing a type inside a union field at path '{path}' in the {writer}"
    ),
}


@dataclass(frozen=True)
class Incompatibility:
    """One reason the reader cannot read the writer's data; `path` is a JSON pointer into the reader."""

    type: IncompatibilityType
    path: str
    info: str

    def describe(self, reader: str = "reader schema", writer: str = "writer schema") -> str:
        """Confluent's verbose message; `reader`/`writer` name the two schemas ("new schema", "old schema")."""
        description = _DESCRIPTIONS[self.type].format(
            path=self.path or "/", info=self.info, reader=reader, writer=writer
        )
        return f"{{errorType:'{self.type}', description:'{description}', additionalInfo:'{self.info}'}}"


def reader_writer_incompatibilities(reader: AvroSchema, writer: AvroSchema) -> list[Incompatibility]:
    """Why data written with `writer` cannot be read with `reader`; empty when it can."""
    found = _Checker(reader, writer).check(reader.tree, writer.tree, "")
    return list(dict.fromkeys(found))  # a type reached twice reports once


def can_read(reader: AvroSchema, writer: AvroSchema) -> bool:
    return not reader_writer_incompatibilities(reader, writer)


class _Checker:
    """Walks reader and writer together; one instance per (reader, writer) schema pair."""

    def __init__(self, reader: AvroSchema, writer: AvroSchema) -> None:
        self.reader, self.writer = reader, writer
        self.done: dict[tuple[int, int], list[Incompatibility]] = {}

    def check(self, reader: Node, writer: Node, path: str) -> list[Incompatibility]:
        reader, writer = self.reader.resolve(reader), self.writer.resolve(writer)
        if isinstance(reader, str) or isinstance(writer, str):
            return self.compare(reader, writer, path)  # a primitive: nothing to recurse into
        key = (id(reader), id(writer))
        if key not in self.done:
            self.done[key] = []  # while in progress: a recursive reference is assumed compatible
            self.done[key] = self.compare(reader, writer, path)
        return self.done[key]

    def compare(self, reader: Node, writer: Node, path: str) -> list[Incompatibility]:
        r_kind, w_kind = _kind(reader), _kind(writer)
        if w_kind == "union":
            if r_kind == "union":
                return list(self.writer_union(reader, writer, path))
            # every branch a writer may have written must be readable
            return [p for i, branch in enumerate(writer) for p in self.check(reader, branch, f"{path}/{i}")]
        if r_kind == "union":
            if any(not self.check(branch, writer, path) for branch in reader):
                return []
            return [
                self.problem(
                    IncompatibilityType.MISSING_UNION_BRANCH,
                    path,
                    f"reader union lacking writer type: {w_kind.upper()}",
                )
            ]
        if r_kind != w_kind:
            if w_kind in _PROMOTIONS.get(r_kind, ()):
                return []
            return [
                self.problem(
                    IncompatibilityType.TYPE_MISMATCH,
                    path,
                    f"reader type: {r_kind.upper()} not compatible with writer type: {w_kind.upper()}",
                )
            ]
        if r_kind == "record":
            return self.named(reader, writer, path) or list(self.record(reader, writer, path))
        if r_kind == "enum":
            return self.named(reader, writer, path) or self.enum(reader, writer, path)
        if r_kind == "fixed":
            return self.named(reader, writer, path) or self.fixed(reader, writer, path)
        if r_kind == "array":
            return self.check(reader["items"], writer["items"], f"{path}/items")
        if r_kind == "map":
            return self.check(reader["values"], writer["values"], f"{path}/values")
        return []  # the same primitive type

    def writer_union(self, reader: list[Node], writer: list[Node], path: str) -> Iterator[Incompatibility]:
        for i, branch in enumerate(writer):
            if self.check(reader, branch, f"{path}/{i}"):
                info = f"reader union lacking writer type: {_kind(self.writer.resolve(branch)).upper()}"
                yield self.problem(IncompatibilityType.MISSING_UNION_BRANCH, f"{path}/{i}", info)

    def named(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        """Named types match by unqualified name, or when a reader alias is the writer's full name."""
        if _short(reader["name"]) == _short(writer["name"]) or writer["name"] in reader.get("aliases", ()):
            return []
        return [self.problem(IncompatibilityType.NAME_MISMATCH, f"{path}/name", f"expected: {writer['name']}")]

    def record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> Iterator[Incompatibility]:
        writer_fields = {f["name"]: f for f in writer["fields"]}
        for i, field in enumerate(reader["fields"]):
            match = next(
                (writer_fields[n] for n in (field["name"], *field.get("aliases", ())) if n in writer_fields), None
            )
            if match is not None:
                yield from self.check(field["type"], match["type"], f"{path}/fields/{i}/type")
            elif "default" not in field:
                yield self.problem(
                    IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE, f"{path}/fields/{i}", field["name"]
                )

    def enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        missing = sorted(set(writer["symbols"]) - set(reader["symbols"]))
        if not missing or reader.get("default") in reader["symbols"]:
            return []  # an enum default reads the symbols the reader does not know
        return [
            self.problem(IncompatibilityType.MISSING_ENUM_SYMBOLS, f"{path}/symbols", "[" + ", ".join(missing) + "]")
        ]

    def fixed(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[Incompatibility]:
        if reader["size"] == writer["size"]:
            return []
        info = f"expected: {writer['size']}, found: {reader['size']}"
        return [self.problem(IncompatibilityType.FIXED_SIZE_MISMATCH, f"{path}/size", info)]

    @staticmethod
    def problem(kind: IncompatibilityType, path: str, info: str) -> Incompatibility:
        return Incompatibility(kind, path or "/", info)


def _kind(node: Node) -> str:
    """record, enum, fixed, array, map, union or a primitive name (logical types read as their base type)."""
    if isinstance(node, list):
        return "union"
    if isinstance(node, str):
        return node
    kind = node["type"]
    return "record" if kind == "error" else kind


def _short(fullname: str) -> str:
    return fullname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class PreviousVersion:
    version: int
    schema: AvroSchema


def check_compatibility(level: CompatibilityLevel, new: AvroSchema, previous: Sequence[PreviousVersion]) -> list[str]:
    """Confluent's verbose messages for registering `new` after `previous` (oldest first); empty = compatible.

    Non-transitive levels compare with the latest previous version only; transitive ones with all of
    them, newest first, stopping at the first that fails (as Confluent does).
    """
    if level is CompatibilityLevel.NONE or not previous:
        return []
    targets = list(previous) if level.transitive else [previous[-1]]
    for old in reversed(targets):
        messages = []
        if level.backward:
            messages += [
                p.describe("new schema", "old schema") for p in reader_writer_incompatibilities(new, old.schema)
            ]
        if level.forward:
            messages += [
                p.describe("old schema", "new schema") for p in reader_writer_incompatibilities(old.schema, new)
            ]
        if messages:
            return [
                *messages,
                f"{{oldSchemaVersion: {old.version}}}",
                f"{{oldSchema: '{old.schema.text}'}}",
                f"{{compatibility: '{level}'}}",
            ]
    return []
