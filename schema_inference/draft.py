"""The suggested (draft) policy of a domain from inference's field decisions: `deid.policy`'s defaults per
entity (USER_ID → encrypt, e-mail/phone/card/IBAN → mask, DATE_TIME and EVENT_TIME of a subject → date_shift,
free text → anonymize_text over the entities found, a URL with personal parts → generalize url_site,
NON_PII → keep), checked against the domain.

Pure functions: no catalog, no Spark. `run.py` sends the draft with `CatalogClient.suggest_policy`.
"""

from __future__ import annotations

from collections.abc import Mapping

from deid.domains import Domain, FieldSpec
from deid.policy import NON_PII, Policy, TreatmentRule, check_policy, default_policy, default_rule
from deid.policy.checks import GENERALIZE_KINDS
from deid.policy.rules import make_rule
from schema_inference.classify import FREE_TEXT, FieldDecision
from schema_inference.stats import FieldProfile

_TYPES = {"boolean": "boolean", "int": "int", "long": "long", "double": "double", "string": "string"}


def inferred_spec(profile: FieldProfile, decision: FieldDecision | None = None) -> FieldSpec:
    """A FieldSpec for a field the domain does not declare, from what inference saw in it."""
    if profile.kind in ("date", "timestamp") and profile.format:
        return FieldSpec(type=profile.kind, format=profile.format)  # type: ignore[arg-type]
    if decision is not None and decision.entity == FREE_TEXT:
        return FieldSpec(type="text")
    kinds = [k for k in profile.types if k != "null"]
    return FieldSpec(type=_TYPES.get(kinds[0], "string") if len(kinds) == 1 else "string")  # type: ignore[arg-type]


def _entity(decision: FieldDecision) -> str:
    return NON_PII if decision.entity == FREE_TEXT and not decision.text_entities else decision.entity


def _text_entities(decision: FieldDecision) -> list[str] | None:
    return list(decision.text_entities) if decision.entity == FREE_TEXT else None


def _structural_rule(decision: FieldDecision, spec: FieldSpec) -> TreatmentRule | None:
    """A rule the field's role calls for beyond its entity: a URL with personal parts keeps only its site."""
    if decision.role == "url_personal" and "url_site" in GENERALIZE_KINDS.get(spec.type, ()):
        return make_rule("generalize", kind="url_site")
    return None


def field_rule(decision: FieldDecision, domain: Domain, profile: FieldProfile | None = None) -> TreatmentRule:
    """The suggested rule of one field: the domain's declaration decides what the type allows; a field the
    domain does not declare is judged by its inferred type."""
    spec = domain.fields.get(decision.path)
    if spec is None:
        spec = inferred_spec(profile, decision) if profile is not None else FieldSpec(type="string")
    return _structural_rule(decision, spec) or default_rule(_entity(decision), spec, domain, _text_entities(decision))


def draft_policy(domain: Domain, decisions: Mapping[str, FieldDecision]) -> Policy:
    """The draft policy for the domain's declared fields (checked with `check_policy`; raises PolicyError)."""
    entities = {path: _entity(d) for path, d in decisions.items() if path in domain.fields}
    texts = {
        path: found
        for path, d in decisions.items()
        if path in domain.fields and (found := _text_entities(d)) is not None
    }
    policy = default_policy(domain, entities, texts)
    structural = {
        path: rule
        for path, d in decisions.items()
        if path in domain.fields and (rule := _structural_rule(d, domain.fields[path])) is not None
    }
    if structural:
        policy = policy.model_copy(update={"rules": {**policy.rules, **structural}})
    policy = policy.model_copy(update={"description": f"suggested by deid infer from {len(decisions)} field(s)"})
    check_policy(policy, domain, source=f"draft policy of {domain.name}")
    return policy
