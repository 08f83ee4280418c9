"""Compile a published policy once into a flat plan of per-field functions, and apply it per record.

`compile_policy(policy, domain, keystore)` checks the policy against the domain, builds one function
per rule (keys looked up, HMAC/Fernet objects made, formats parsed: all once), and arranges them in a
tree that mirrors nested paths (`a.b.c`, `items[].x`). `Plan.apply(record)` then only walks lists
of (key, function) pairs: no pydantic, no look-ups per record.

Fail closed: the output holds only fields a rule covers. Anything else in the record is left out and
its path collected in `plan.uncovered` (to report to the catalog as new). A value that cannot be
treated raises TreatmentError(field_path, reason) (→ DLQ); the error never carries the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from deid.domains import Domain
from deid.errors import DeidError
from deid.policy import (
    REDACTED_FLAG_FIELD,
    ConsentRule,
    Policy,
    RedactParams,
    Rule,
    TreatmentRule,
    check_policy,
    split_path,
)
from pipelines.columns import Columns, treat_columns
from pipelines.consent import ConsentLedger, SubjectConsent
from pipelines.keys.base import Keystore
from pipelines.transforms import FieldContext, FieldFunction, TransformRegistry, TreatmentError, default_registry
from pipelines.transforms.anonymize_text import TextAnalysis
from pipelines.transforms.base import as_text
from pipelines.transforms.encrypt import SubjectKeyCache
from pipelines.transforms.registry import UnknownTransformError

RECORD = "(record)"  # also pipelines.columns.RECORD
_OMIT = object()  # a drop branch of a consent rule: the field goes out as null
Slot = Callable[[Any, Any, Any], Any]  # (raw value, subject, consent level) -> output value


class PlanError(DeidError):
    """The policy cannot be compiled (e.g. a treatment this build lacks); names the rule path."""


@dataclass
class _Node:
    """One JSON object level: plain rules as (key, function) pairs, the rest as slots."""

    prefix: str
    known: frozenset[str]
    plain: list[tuple[str, FieldFunction | None]]  # None: keep as is
    slots: list[tuple[str, Slot]]


@dataclass
class _Output:
    topic: str
    root: _Node
    uncovered: set[str] = field(default_factory=set)
    """Paths seen that this output's rules do not cover: the Plan's for the main output; a purpose
    leaving fields out is by design, so its own set is never reported."""
    always_flagged: bool = False
    flag_when: list[Callable[[Any], bool]] = field(default_factory=list)
    has_flag: bool = False  # set once compiled: does this output carry the data_redacted field?


@dataclass
class PurposePlan:
    name: str
    topic: str
    admits: Callable[[Any], bool]
    output: _Output
    skipped: int = 0
    """Rows not written to this purpose's topic because their consent level does not admit them."""


class Plan:
    """A compiled policy version for one domain: `apply` for the main output, `outputs` for all of them."""

    def __init__(
        self,
        policy: Policy,
        domain: Domain,
        main: _Output,
        purposes: list[PurposePlan],
        uncovered: set[str],
        subject_keys: SubjectKeyCache | None = None,
        batch_prepares: list[tuple[str, Callable[[list[Any]], Any]]] | None = None,
        subject_consent: SubjectConsent | None = None,
    ) -> None:
        self.domain = domain.name
        self.version = policy.version
        self.topic = main.topic
        self.purposes = purposes
        self.unruled_fields = policy.uncovered_fields(domain)
        """Domain fields without a main rule: never emitted."""
        self.uncovered = uncovered
        """Paths seen in records that no rule covers (dropped); grows as records arrive."""
        self._main = main
        self._subject = _getter(domain.subject_field)
        self._needs_consent = domain.consent is not None and (bool(purposes) or _uses_consent(policy))
        self._raw_consent = _getter(domain.consent.field if domain.consent else None)
        self._consent = _consent_reader(domain) if self._needs_consent else (lambda _record: None)
        self._subject_keys = subject_keys if subject_keys is not None and subject_keys.used else None
        self._subject_consent = subject_consent if self._needs_consent else None
        if self._subject_consent is not None:
            self._consent = self._subject_consent.reader(self._subject, self._raw_consent, self._consent)
        self._prepares = [(_getter(path), prepare) for path, prepare in batch_prepares or []]
        root = main.root
        self._columnar = not purposes and not self._needs_consent and not root.slots and not main.flag_when
        """A flat main output, no consent: `apply_batch` treats a batch column by column."""

    def prepare_batch(self, records: list[Any]) -> None:
        """Before a batch: let batch-aware field functions (anonymize_text) treat the batch's values in one
        pass, so that `apply` then finds them done. Values that fail here fail again, per record, in `apply`."""
        if not self._prepares:
            return
        rows = [r for r in records if type(r) is dict]
        for read, prepare in self._prepares:
            try:
                prepare([read(r) for r in rows])
            except Exception:  # never stop a batch here: apply() treats (or rejects) each record itself
                continue

    def prefetch_subject_keys(self, records: Iterable[Any]) -> int:
        """Before a batch: fetch (or create, in one keystore transaction) the per-subject keys its records
        need that are not cached yet, and (subject-level consent) the subjects' consent caps, lowered by
        the batch's opt-outs; the number of keys fetched."""
        if self._subject_consent is not None:
            records = list(records)
            self._subject_consent.load(self._consent_rows(records))
        if self._subject_keys is None:
            return 0
        subject = self._subject
        subjects = {as_text(subject(r)) for r in records if type(r) is dict}
        subjects.discard(None)
        return self._subject_keys.prime(subjects)  # type: ignore[arg-type]

    def _consent_rows(self, records: list[Any]) -> list[tuple[str, Any]]:
        subject, raw = self._subject, self._raw_consent
        rows = []
        for record in records:
            if type(record) is dict and (text := as_text(subject(record))) is not None:
                rows.append((text, raw(record)))
        return rows

    def apply(self, record: Any) -> dict[str, Any]:
        """The main anonymised record; TreatmentError if any covered field cannot be treated."""
        problem: tuple[str, str]
        try:
            if type(record) is not dict:
                raise TreatmentError(RECORD, "not a JSON object")
            level = self._consent(record) if self._needs_consent else None
            return self._emit(self._main, record, self._subject(record), level)
        except TreatmentError as exc:
            problem = (exc.field_path, exc.reason)
        except Exception as exc:  # a bug, not the data's fault; still never let the value out
            problem = (RECORD, f"unexpected {type(exc).__name__}")
        # Raised here, outside the except blocks, so no exception holding a value is chained to it.
        raise TreatmentError(*problem)

    def apply_batch(self, records: list[Any]) -> list[dict[str, Any] | TreatmentError]:
        """`apply` for each record of a batch: its main anonymised record, or the TreatmentError `apply` raises.

        Flat plans run column by column (`treat_columns`); the others, record by record."""
        columns = self.treat_columns(records)
        if columns is not None:
            return columns.rows()
        return [_applied_or_error(self.apply, record) for record in records]

    def treat_columns(self, records: list[Any]) -> Columns | None:
        """A flat plan without consent (`pipelines.columns`: the same field functions, one pass per field over
        the batch): the batch treated, by field; None for other plans (or a record that is no JSON object)."""
        if not self._columnar or not all(type(record) is dict for record in records):
            return None
        main, subject = self._main, self._subject
        flag = [(REDACTED_FLAG_FIELD, True)] if main.has_flag else []
        subjects = [subject(record) for record in records]
        return treat_columns(main.root.plain, main.root.known, records, subjects, main.uncovered, flag)

    def outputs(self, record: Any) -> list[tuple[str, dict[str, Any]]]:
        """(topic, record) for the main output and every purpose whose consent level admits the row."""
        problem: tuple[str, str]
        try:
            if type(record) is not dict:
                raise TreatmentError(RECORD, "not a JSON object")
            subject, level = self._subject(record), self._consent(record)
            results = [(self.topic, self._emit(self._main, record, subject, level))]
            for purpose in self.purposes:
                if purpose.admits(level):
                    results.append((purpose.topic, self._emit(purpose.output, record, subject, level)))
                else:
                    purpose.skipped += 1
            return results
        except TreatmentError as exc:
            problem = (exc.field_path, exc.reason)
        except Exception as exc:
            problem = (RECORD, f"unexpected {type(exc).__name__}")
        raise TreatmentError(*problem)

    def _emit(self, output: _Output, record: dict[str, Any], subject: Any, level: Any) -> dict[str, Any]:
        out = _apply_node(output.root, record, subject, level, output.uncovered)
        if output.has_flag:
            out[REDACTED_FLAG_FIELD] = output.always_flagged or any(when(level) for when in output.flag_when)
        return out

    def __repr__(self) -> str:
        return f"Plan(domain={self.domain!r}, version={self.version}, purposes={[p.name for p in self.purposes]})"


def _applied_or_error(apply: Callable[[Any], dict[str, Any]], record: Any) -> dict[str, Any] | TreatmentError:
    try:
        return apply(record)
    except TreatmentError as exc:
        return exc


def _apply_node(node: _Node, src: dict[str, Any], subject: Any, level: Any, uncovered: set[str]) -> dict[str, Any]:
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


# --- compilation -----------------------------------------------------------------------------------


def compile_policy(
    policy: Policy,
    domain: Domain,
    keystore: Keystore,
    registry: TransformRegistry | None = None,
    *,
    text_analysis: TextAnalysis | None = None,
) -> Plan:
    """Check the policy against the domain and compile every rule once (PolicyError / PlanError if not).

    `text_analysis` (the worker's NLP engine, from its settings) is what anonymize_text rules use."""
    check_policy(policy, domain, f"policy {policy.domain} v{policy.version}")
    compiler = _Compiler(domain, keystore, registry or default_registry(), text_analysis)
    main = compiler.output("rules", policy.rules, domain.anonymised_topic, compiler.uncovered)
    purposes = [
        PurposePlan(
            purpose.name,
            policy.purpose_topic(purpose),
            purpose.admits,
            compiler.output(f"purposes.{purpose.name}.rules", purpose.rules, policy.purpose_topic(purpose), set()),
        )
        for purpose in policy.purposes
    ]
    consent = None
    if domain.consent is not None and domain.consent.scope == "subject":
        try:
            consent = SubjectConsent(ConsentLedger.of(keystore, domain.name), domain.consent)
        except TypeError as exc:  # fail closed: subject-level consent cannot be honoured without its ledger
            problem = f"domain {domain.name!r}: consent scope 'subject' needs the keystore's ledger ({exc})"
            raise PlanError(problem) from None
    return Plan(policy, domain, main, purposes, compiler.uncovered, compiler.subject_keys, compiler.prepares, consent)


@dataclass
class _Tree:
    """Rules grouped by JSON key: a leaf (rule, path, array?) or a sub-tree (array of objects?)."""

    leaves: dict[str, tuple[Rule, str, bool]] = field(default_factory=dict)
    children: dict[str, tuple[_Tree, bool, str]] = field(default_factory=dict)


class _Compiler:
    def __init__(
        self, domain: Domain, keystore: Keystore, registry: TransformRegistry, text_analysis: TextAnalysis | None
    ) -> None:
        self.domain, self.keystore, self.registry = domain, keystore, registry
        self.text_analysis = text_analysis
        self.uncovered: set[str] = set()  # the main output's, shared with the Plan: nested levels report into it
        self.subject_keys = SubjectKeyCache(keystore, domain.name)  # one per plan: every per-subject rule
        self.prepares: list[tuple[str, Callable[[list[Any]], Any]]] = []  # (plain object path, fn.prepare)

    def output(self, where: str, rules: dict[str, Rule], topic: str, uncovered: set[str]) -> _Output:
        tree = _Tree()
        for path, rule in rules.items():
            self._insert(tree, where, path, rule)
        output = _Output(topic, _Node("", frozenset(), [], []), uncovered)
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

    def _node(self, tree: _Tree, prefix: str, where: str, output: _Output) -> _Node:
        node = _Node(prefix, frozenset(tree.leaves) | frozenset(tree.children), [], [])
        for key, (rule, path, is_array) in tree.leaves.items():
            self._note_flag(rule, output)
            if isinstance(rule, ConsentRule):
                node.slots.append((key, self._consent_slot(rule, path, is_array, where)))
                continue
            fn = self._function(rule, path, where)
            if fn is _OMIT:
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
        return _OMIT if fn is None else fn

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
            if fn is _OMIT or value is None:
                return None
            if is_array:
                return _map_scalars(fn, value, subject, path)
            return value if fn is None else fn(value, subject)

        return consent_slot

    def _note_flag(self, rule: Rule, output: _Output) -> None:
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


def _object_slot(node: _Node, path: str, uncovered: set[str]) -> Slot:
    def object_slot(value: Any, subject: Any, level: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise TreatmentError(path, f"expected an object, got a {type(value).__name__}")
        return _apply_node(node, value, subject, level, uncovered)

    return object_slot


def _array_slot(node: _Node, path: str, uncovered: set[str]) -> Slot:
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
                out.append(_apply_node(node, item, subject, level, uncovered))
        return out

    return array_slot


def _uses_consent(policy: Policy) -> bool:
    return any(isinstance(r, ConsentRule) for _, rules in policy.rule_sets() for r in rules.values())


def _getter(path: str | None) -> Callable[[dict[str, Any]], Any]:
    if path is None:
        return lambda _record: None
    keys = path.split(".")
    if len(keys) == 1:
        key = keys[0]
        return lambda record: record.get(key)

    def nested(record: dict[str, Any]) -> Any:
        value: Any = record
        for key in keys:
            value = value.get(key) if type(value) is dict else None
        return value

    return nested


def _consent_reader(domain: Domain) -> Callable[[dict[str, Any]], int]:
    assert domain.consent is not None
    spec, read = domain.consent, _getter(domain.consent.field)
    return lambda record: spec.level_of(read(record))
