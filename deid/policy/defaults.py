"""Default treatments per detected entity: what a draft policy suggests before a steward reviews it.

USER_ID → encrypt (reversible for authorised re-identification); EMAIL_ADDRESS, PHONE_NUMBER, card
numbers, IBAN_CODE → mask (keyed pseudonym: joins still work); DATE_TIME, EVENT_TIME → date_shift when the
domain has a subject (else month generalisation); free text → anonymize_text; NON_PII → keep; any other
personal-data entity → mask. When the preferred treatment does not apply to the field's type, the
next safer one that does is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deid.domains import Domain, FieldSpec
from deid.policy.checks import ALLOWED_TREATMENTS
from deid.policy.model import Policy
from deid.policy.rules import Rule, TreatmentRule, make_rule
from deid.tags import NON_PII

ENTITY_TREATMENTS: dict[str, str] = {
    NON_PII: "keep",
    "USER_ID": "encrypt",
    "EMAIL_ADDRESS": "mask",
    "PHONE_NUMBER": "mask",
    "CREDIT_CARD": "mask",
    "CUSTOM_CREDIT_CARD": "mask",
    "IBAN_CODE": "mask",
    "DATE_TIME": "date_shift",
    "EVENT_TIME": "date_shift",  # quasi-identifying: per-subject shift keeps intervals and order
}
OTHER_PII_TREATMENT = "mask"
# If a treatment does not apply to the field's type, try these in order (all irreversible or constant).
_FALLBACKS: dict[str, tuple[str, ...]] = {
    "mask": ("redact",),
    "date_shift": ("generalize", "mask", "redact"),
    "anonymize_text": ("redact",),
}


def default_rule(
    entity: str | None, spec: FieldSpec, domain: Domain, text_entities: Sequence[str] | None = None
) -> TreatmentRule:
    """The suggested rule for a field tagged `entity` (None or NON_PII: not personal data)."""
    if text_entities is not None or spec.type == "text":
        return _first_allowed(("anonymize_text",), spec, domain, text_entities)
    preferred = ENTITY_TREATMENTS.get(entity or NON_PII, OTHER_PII_TREATMENT)
    return _first_allowed((preferred, *_FALLBACKS.get(preferred, ())), spec, domain, text_entities)


def _first_allowed(
    candidates: Sequence[str], spec: FieldSpec, domain: Domain, text_entities: Sequence[str] | None
) -> TreatmentRule:
    for treatment in candidates:
        if treatment not in ALLOWED_TREATMENTS[spec.type]:
            continue
        if treatment == "date_shift" and not (domain.subject_field and spec.format):
            continue
        if treatment == "generalize":
            if spec.type in {"date", "timestamp"} and spec.format:
                return make_rule("generalize", kind="date_month")
            continue
        if treatment == "anonymize_text":
            return make_rule("anonymize_text", entities=list(text_entities or []))
        return make_rule(treatment)
    return make_rule("redact")


def default_policy(
    domain: Domain,
    entities: Mapping[str, str | None],
    text_entities: Mapping[str, Sequence[str]] | None = None,
    version: int = 0,
) -> Policy:
    """A draft policy for the fields in `entities` (path → entity or NON_PII); others stay uncovered."""
    text_entities = text_entities or {}
    rules: dict[str, Rule] = {}
    for path, entity in entities.items():
        spec = domain.fields.get(path)
        if spec is not None:
            rules[path] = default_rule(entity, spec, domain, text_entities.get(path))
    return Policy(domain=domain.name, version=version, status="draft", rules=rules)
