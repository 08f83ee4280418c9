"""What each field type allows (the UI offers exactly these) and the checks of a policy against its domain."""

from __future__ import annotations

from typing import Any

from deid.domains import Domain, FieldType
from deid.policy.model import Policy
from deid.policy.rules import (
    REDACTED_FLAG_FIELD,
    RULE_CLASSES,
    ConsentRule,
    DateShiftParams,
    EncryptParams,
    GeneralizeParams,
    PolicyError,
    Rule,
    TreatmentRule,
    named_branches,
)

# --- what each field type allows (the UI offers these; validation enforces them) -----------------

ALLOWED_TREATMENTS: dict[FieldType, tuple[str, ...]] = {
    "string": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize", "anonymize_text"),
    "text": ("keep", "drop", "redact", "encrypt", "mask", "anonymize_text"),
    "int": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "long": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "double": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "boolean": ("keep", "drop", "redact", "encrypt"),
    "date": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize"),
    "timestamp": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize"),
}
GENERALIZE_KINDS: dict[FieldType, tuple[str, ...]] = {
    "string": ("ipv4_24", "ipv6_48", "postcode_prefix", "url_site"),
    "text": (),
    "int": ("number_bucket",),
    "long": ("number_bucket",),
    "double": ("number_bucket",),
    "boolean": (),
    "date": ("date_month", "date_year"),
    "timestamp": ("date_month", "date_year"),
}


def treatment_options(field_type: FieldType) -> list[dict[str, Any]]:
    """For the UI: each treatment a field of this type allows, with its parameters' JSON schema."""
    options = []
    for name in ALLOWED_TREATMENTS[field_type]:
        schema = RULE_CLASSES[name].params_model.model_json_schema()
        option: dict[str, Any] = {"treatment": name, "params_schema": schema}
        if name == "generalize":
            option["kinds"] = list(GENERALIZE_KINDS[field_type])
        options.append(option)
    return options


# --- checks against the domain ---------------------------------------------------------------------


def check_policy(policy: Policy, domain: Domain, source: str = "policy") -> None:
    """Raise PolicyError listing every rule that does not fit the domain (unknown field, wrong type, …)."""
    problems = policy_problems(policy, domain)
    if problems:
        raise PolicyError("\n".join(f"{source}: {p}" for p in problems))


def policy_problems(policy: Policy, domain: Domain) -> list[str]:
    problems = []
    if policy.domain != domain.name:
        problems.append(f"domain: policy is for {policy.domain!r}, not {domain.name!r}")
    if REDACTED_FLAG_FIELD in domain.fields:
        problems.append(f"domain field {REDACTED_FLAG_FIELD!r} clashes with the redaction flag deid adds")
    for index, purpose in enumerate(policy.purposes):
        if purpose.needs_consent and domain.consent is None:
            problems.append(f"purposes[{index}]: consent levels need a domain with a consent field")
    if policy.k_anonymity == "suppress" and not domain.quasi_identifiers:
        problems.append(
            f"k_anonymity: 'suppress' needs quasi-identifiers; domain {domain.name!r} names none "
            "(deid domains add … with quasi_identifiers)"
        )
    for prefix, rules in policy.rule_sets():
        for path, rule in rules.items():
            problems.extend(_rule_problems(f"{prefix}.{path}", path, rule, domain))
    return problems


def _rule_problems(where: str, path: str, rule: Rule, domain: Domain) -> list[str]:
    spec = domain.fields.get(path)
    if spec is None:
        return [f"{where}: unknown field {path!r}; domain {domain.name!r} has: {', '.join(domain.fields)}"]
    problems = []
    if isinstance(rule, ConsentRule) and domain.consent is None:
        problems.append(f"{where}: a consent rule needs a domain with a consent field")
    if isinstance(rule, ConsentRule) and any(
        isinstance(b.params, EncryptParams) and b.params.mode == "fpe" for b in rule.branches()
    ):
        # An FPE token looks like a real value: re-identification could not tell it from a value kept in clear.
        problems.append(f"{where}: encrypt mode fpe cannot be a consent branch; give the field one rule")
    for branch_name, branch in named_branches(rule):
        at = f"{where}{branch_name}"
        allowed = ALLOWED_TREATMENTS[spec.type]
        if branch.treatment not in allowed:
            problems.append(
                f"{at}.treatment: {branch.treatment!r} does not apply to a {spec.type} field; "
                f"allowed: {', '.join(allowed)}"
            )
            continue
        problems.extend(f"{at}.params.{p}" for p in _params_problems(branch, spec.type, spec.format, domain))
    return problems


def _params_problems(rule: TreatmentRule, field_type: FieldType, field_format: str | None, domain: Domain) -> list[str]:
    params = rule.params
    if isinstance(params, GeneralizeParams):
        kinds = GENERALIZE_KINDS[field_type]
        if params.kind not in kinds:
            return [f"kind: {params.kind!r} does not apply to a {field_type} field; allowed: {', '.join(kinds)}"]
        if params.kind in {"date_month", "date_year"} and not field_format:
            return [f"kind: {params.kind} needs the field's date format in the domain"]
        if params.size is not None and field_type in {"int", "long"} and params.size != int(params.size):
            return [f"size: an {field_type} field needs a whole-number bucket size"]
    if isinstance(params, DateShiftParams):
        if domain.subject_field is None:
            return ["date_shift needs the domain's subject_field (the offset is per subject)"]
        if not (params.format or field_format):
            return ["format: this field has no date format in the domain; give one"]
    if isinstance(params, EncryptParams) and params.key_scope == "subject" and domain.subject_field is None:
        return ["key_scope: 'subject' needs the domain's subject_field"]
    return []
