"""What a policy's rule set compiles to: a tree of JSON object levels, each a flat list of (key, field
function) pairs plus slots for what needs more (nested objects, arrays, consent), and the compiler that
builds it (`TreeCompiler`: one field function per rule, compiled once). `apply_node` walks one level of a
record; `pipelines.plan` holds the trees of a policy's outputs and applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deid.domains import Domain
from deid.errors import DeidError
from deid.policy import ConsentRule, RedactParams, Rule, TreatmentRule, split_path
from pipelines.keys.base import Keystore
from pipelines.transforms import FieldContext, FieldFunction, TransformRegistry, TreatmentError
from pipelines.transforms.anonymize_text import TextAnalysis
from pipelines.transforms.encrypt import SubjectKeyCache
from pipelines.transforms.registry import UnknownTransformError

OMIT = object()  # a drop branch of a consent rule: the field goes out as null
Slot = Callable[[Any, Any, Any], Any]  # (raw value, subject, consent level) -> output value


class PlanError(DeidError):
    """The policy cannot be compiled (e.g. a treatment this build lacks); names the rule path."""


@dataclass
class Node:
    """One JSON object level: plain rules as (key, function) pairs, the rest as slots."""

    prefix: str
    known: frozenset[str]
    plain: list[tuple[str, FieldFunction | None]]  # None: keep as is
    slots: list[tuple[str, Slot]]


@dataclass
class Output:
    topic: str
    root: Node
    uncovered: set[str] = field(default_factory=set)
    """Paths seen that this output's rules do not cover: the Plan's for the main output; a purpose
    leaving fields out is by design, so its own set is never reported."""
    always_flagged: bool = False
    flag_when: list[Callable[[Any], bool]] = field(default_factory=list)
    has_flag: bool = False  # set once compiled: does this output carry the data_redacted field?


def apply_node(node: Node, src: dict[str, Any], subject: Any, level: Any, uncovered: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    get = src.get
    for key, fn in node.plain:
        value = get(key)
        out[key] = value if fn is None or value is None else fn(value, subject)
    for key, slot in node.slots:
        out[key] = slot(get(key), subject, level)
    if not src.keys() <= node.known:
        prefix = node.prefix
        uncovered.update(prefix + key for key in src.keys() - node.known)
    return out


@dataclass
class _Tree:
    """Rules grouped by JSON key: a leaf (rule, path, array?) or a sub-tree (array of objects?)."""

    leaves: dict[str, tuple[Rule, str, bool]] = field(default_factory=dict)
    children: dict[str, tuple[_Tree, bool, str]] = field(default_factory=dict)


class TreeCompiler:
    """Compiles rule sets of one domain into trees; what the rules need once (per-subject keys, batch
    preparations) is collected here for the Plan."""

    def __init__(
        self, domain: Domain, keystore: Keystore, registry: TransformRegistry, text_analysis: TextAnalysis | None
    ) -> None:
        self.domain, self.keystore, self.registry = domain, keystore, registry
        self.text_analysis = text_analysis
        self.uncovered: set[str] = set()  # the main output's, shared with the Plan: nested levels report into it
        self.subject_keys = SubjectKeyCache(keystore, domain.name)  # one per plan: every per-subject rule
        self.prepares: list[tuple[str, Callable[[list[Any]], Any]]] = []  # (plain object path, fn.prepare)

    def output(self, where: str, rules: dict[str, Rule], topic: str, uncovered: set[str]) -> Output:
        tree = _Tree()
        for path, rule in rules.items():
            self._insert(tree, where, path, rule)
        output = Output(topic, Node("", frozenset(), [], []), uncovered)
        output.root = self._node(tree, "", where, output)
        output.has_flag = output.always_flagged or bool(output.flag_when)
        return output

    def _insert(self, tree: _Tree, where: str, path: str, rule: Rule) -> None:
        segments = split_path(path)
        for depth, (key, is_array) in enumerate(segments[:-1]):
            prefix = ".".join(path.split(".")[: depth + 1]).removesuffix("[]")
            child = tree.children.get(key)
            if key in tree.leaves or (child is not None and child[1] != is_array):
                raise PlanError(f"{where}.{path}: {prefix!r} is used both as a value and as an object/array")
            if child is None:
                child = tree.children[key] = (_Tree(), is_array, prefix)
            tree = child[0]
        key, is_array = segments[-1]
        if key in tree.children or key in tree.leaves:
            raise PlanError(f"{where}.{path}: {key!r} is used both as a value and as an object/array")
        tree.leaves[key] = (rule, path, is_array)

    def _node(self, tree: _Tree, prefix: str, where: str, output: Output) -> Node:
        node = Node(prefix, frozenset(tree.leaves) | frozenset(tree.children), [], [])
        for key, (rule, path, is_array) in tree.leaves.items():
            self._note_flag(rule, output)
            if isinstance(rule, ConsentRule):
                node.slots.append((key, self._consent_slot(rule, path, is_array, where)))
                continue
            fn = self._function(rule, path, where)
            if fn is OMIT:
                continue  # drop: known (not reported as uncovered), never emitted
            if is_array:
                node.slots.append((key, _scalar_array_slot(fn, path)))
            else:
                node.plain.append((key, None if _is_keep(rule) else fn))
                prepare = getattr(fn, "prepare", None)
                if prepare is not None and "[]" not in path:
                    self.prepares.append((path, prepare))
        for key, (child, is_array, child_path) in tree.children.items():
            child_prefix = f"{child_path}[]." if is_array else f"{child_path}."
            sub = self._node(child, child_prefix, where, output)
            slot = _array_slot if is_array else _object_slot
            node.slots.append((key, slot(sub, child_path, output.uncovered)))
        return node

    def _function(self, rule: TreatmentRule, path: str, where: str) -> Any:
        try:
            transform = self.registry.get(rule.treatment)
        except UnknownTransformError as exc:
            raise PlanError(f"{where}.{path}: {exc}") from None
        context = FieldContext(
            path, self.domain.fields[path], self.domain, self.keystore, self.subject_keys, self.text_analysis
        )
        try:
            fn = transform.compile(rule.params, context)
        except TreatmentError as exc:  # a rule that cannot work here (e.g. names undetectable): refuse to start
            raise PlanError(f"{where}.{path}: {exc.reason}") from None
        return OMIT if fn is None else fn

    def _consent_slot(self, rule: ConsentRule, path: str, is_array: bool, where: str) -> Slot:
        minimum = rule.min_consent_level
        allowed = self._function(rule.with_consent, path, where)
        denied = self._function(rule.without_consent, path, where)
        if _is_keep(rule.with_consent):
            allowed = None
        if _is_keep(rule.without_consent):
            denied = None

        def consent_slot(value: Any, subject: Any, level: Any) -> Any:
            fn = allowed if level is not None and level >= minimum else denied
            if fn is OMIT or value is None:
                return None
            if is_array:
                return _map_scalars(fn, value, subject, path)
            return value if fn is None else fn(value, subject)

        return consent_slot

    def _note_flag(self, rule: Rule, output: Output) -> None:
        if not isinstance(rule, ConsentRule):
            output.always_flagged |= _flags(rule)
            return
        minimum = rule.min_consent_level
        if _flags(rule.with_consent):
            output.flag_when.append(lambda level: level is not None and level >= minimum)
        if _flags(rule.without_consent):
            output.flag_when.append(lambda level: level is None or level < minimum)


def _flags(rule: TreatmentRule) -> bool:
    return isinstance(rule.params, RedactParams) and rule.params.flag


def _is_keep(rule: TreatmentRule) -> bool:
    return rule.treatment == "keep"


def _map_scalars(fn: FieldFunction | None, value: Any, subject: Any, path: str) -> list[Any]:
    if type(value) is not list:
        raise TreatmentError(path, f"expected an array, got a {type(value).__name__}")
    if fn is None:
        return list(value)
    return [None if item is None else fn(item, subject) for item in value]


def _scalar_array_slot(fn: FieldFunction, path: str) -> Slot:
    def scalar_array(value: Any, subject: Any, _level: Any) -> Any:
        return None if value is None else _map_scalars(fn, value, subject, path)

    return scalar_array


def _object_slot(node: Node, path: str, uncovered: set[str]) -> Slot:
    def object_slot(value: Any, subject: Any, level: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise TreatmentError(path, f"expected an object, got a {type(value).__name__}")
        return apply_node(node, value, subject, level, uncovered)

    return object_slot


def _array_slot(node: Node, path: str, uncovered: set[str]) -> Slot:
    def array_slot(value: Any, subject: Any, level: Any) -> Any:
        if value is None:
            return None
        if type(value) is not list:
            raise TreatmentError(path, f"expected an array, got a {type(value).__name__}")
        out = []
        for item in value:
            if item is None:
                out.append(None)
            elif type(item) is not dict:
                raise TreatmentError(f"{path}[]", f"expected an object, got a {type(item).__name__}")
            else:
                out.append(apply_node(node, item, subject, level, uncovered))
        return out

    return array_slot
