"""Compile a published policy once into a flat plan of per-field functions, and apply it per record.

`compile_policy(policy, domain, keystore)` checks the policy against the domain, builds one function
per rule (keys looked up, HMAC/Fernet objects made, formats parsed: all once), and arranges them in a
tree that mirrors nested paths (`a.b.c`, `items[].x`; `pipelines/plan_tree.py` builds it). `Plan.apply`
then only walks lists of (key, function) pairs: no pydantic, no look-ups per record.

Fail closed: the output holds only fields a rule covers. Anything else in the record is left out and
its path collected in `plan.uncovered` (to report to the catalog as new). A value that cannot be
treated raises TreatmentError(field_path, reason) (→ DLQ); the error never carries the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from deid.domains import Domain
from deid.policy import REDACTED_FLAG_FIELD, ConsentRule, Policy, check_policy
from pipelines.columns import Columns, column_of, treat_columns
from pipelines.consent import ConsentLedger, SubjectConsent
from pipelines.keys.base import Keystore
from pipelines.plan_tree import Output, PlanError, TreeCompiler, apply_node
from pipelines.transforms import TransformRegistry, TreatmentError, default_registry
from pipelines.transforms.anonymize_text import TextAnalysis
from pipelines.transforms.base import as_text
from pipelines.transforms.encrypt import SubjectKeyCache

__all__ = ["Plan", "PlanError", "PurposePlan", "compile_policy"]

RECORD = "(record)"  # also pipelines.columns.RECORD


@dataclass
class PurposePlan:
    name: str
    topic: str
    admits: Callable[[Any], bool]
    output: Output
    skipped: int = 0
    """Rows not written to this purpose's topic because their consent level does not admit them."""


class Plan:
    """A compiled policy version for one domain: `apply` for the main output, `outputs` for all of them."""

    def __init__(
        self,
        policy: Policy,
        domain: Domain,
        main: Output,
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
        self._subjects = _column_getter(domain.subject_field)
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
        if not self._columnar or not set(map(type, records)) <= {dict}:
            return None
        main = self._main
        flag = [(REDACTED_FLAG_FIELD, True)] if main.has_flag else []
        subjects = self._subjects(records)
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

    def _emit(self, output: Output, record: dict[str, Any], subject: Any, level: Any) -> dict[str, Any]:
        out = apply_node(output.root, record, subject, level, output.uncovered)
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
    compiler = TreeCompiler(domain, keystore, registry or default_registry(), text_analysis)
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


def _uses_consent(policy: Policy) -> bool:
    return any(isinstance(r, ConsentRule) for _, rules in policy.rule_sets() for r in rules.values())


def _column_getter(path: str | None) -> Callable[[list[dict[str, Any]]], list[Any]]:
    """`_getter` over a batch of records: a top-level key is read with one `map`."""
    if path is not None and "." not in path:
        return lambda records: column_of(records, path)
    read = _getter(path)
    return lambda records: [read(record) for record in records]


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
