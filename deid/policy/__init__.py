"""The one policy model: which treatment each field path gets, per domain and version.

Shared by the catalog and steward UI (which must not import `pipelines`), schema inference (which
suggests draft policies) and the pipelines (which compile published ones). A policy document:

    domain: profile
    version: 3
    status: published            # draft | published
    rules:                       # field path -> rule; fields without a rule are dropped (fail closed)
      name: {treatment: mask, params: {encoding: hex, length: 16}}
      dob:                       # consent-conditional: one treatment when the row's consent allows, another when not
        min_consent_level: 1
        with_consent: {treatment: keep}
        without_consent: {treatment: redact, params: {value: REDACTED_CONTENT, flag: true}}
      items[].sku: {treatment: keep}
    purposes:                    # derived outputs, topic <domain>-<purpose>-data, rows below the level are skipped
      - name: recommender
        min_consent_level: 2
        rules: {user_id: {treatment: mask}}

Field paths: dotted names for nested objects (`a.b.c`), `[]` for array elements (`items[].x`, `tags[]`).
Parsing errors and checks against a `deid.domains.Domain` name the offending path.

Keeping a PII-tagged field in clear needs `exemption: {reason, by, at}` on that keep rule
(`exemptions`: what keeps PII, what lacks a reason; the catalog refuses to publish without one).

Modules: `rules` (treatments, typed parameters, consent rules, exemptions), `model` (Policy, Purpose, import and
export), `checks` (what each field type allows; checks against the domain), `defaults` (suggested
treatments per detected entity), `diff` (what changed between two policies). Import from
`deid.policy`; it re-exports what callers need.
"""

from deid.policy.checks import (
    ALLOWED_TREATMENTS,
    GENERALIZE_KINDS,
    check_policy,
    policy_problems,
    treatment_options,
)
from deid.policy.defaults import ENTITY_TREATMENTS, NON_PII, default_policy, default_rule
from deid.policy.diff import PolicyChange, diff_policies
from deid.policy.exemptions import KeptInClear, exemption_problems, kept_in_clear, stamp_exemptions
from deid.policy.model import Policy, Purpose, describe_errors, split_path
from deid.policy.rules import (
    FIELD_PATH,
    REDACTED_FLAG_FIELD,
    REDACTED_VALUE,
    RULE_CLASSES,
    TREATMENTS,
    AnonymizeTextParams,
    AnonymizeTextRule,
    ConsentRule,
    DateShiftParams,
    DateShiftRule,
    DropRule,
    EncryptParams,
    EncryptRule,
    Exemption,
    GeneralizeKind,
    GeneralizeParams,
    GeneralizeRule,
    KeepRule,
    MaskParams,
    MaskRule,
    NoParams,
    PolicyError,
    RedactParams,
    RedactRule,
    Rule,
    TreatmentName,
    TreatmentRule,
    make_rule,
    named_branches,
    rule_branches,
)

__all__ = [
    "ALLOWED_TREATMENTS",
    "ENTITY_TREATMENTS",
    "FIELD_PATH",
    "GENERALIZE_KINDS",
    "NON_PII",
    "REDACTED_FLAG_FIELD",
    "REDACTED_VALUE",
    "RULE_CLASSES",
    "TREATMENTS",
    "AnonymizeTextParams",
    "AnonymizeTextRule",
    "ConsentRule",
    "DateShiftParams",
    "DateShiftRule",
    "DropRule",
    "EncryptParams",
    "EncryptRule",
    "Exemption",
    "GeneralizeKind",
    "GeneralizeParams",
    "GeneralizeRule",
    "KeepRule",
    "KeptInClear",
    "MaskParams",
    "MaskRule",
    "NoParams",
    "Policy",
    "PolicyChange",
    "PolicyError",
    "Purpose",
    "RedactParams",
    "RedactRule",
    "Rule",
    "TreatmentName",
    "TreatmentRule",
    "check_policy",
    "default_policy",
    "default_rule",
    "describe_errors",
    "diff_policies",
    "exemption_problems",
    "kept_in_clear",
    "make_rule",
    "named_branches",
    "policy_problems",
    "rule_branches",
    "split_path",
    "stamp_exemptions",
    "treatment_options",
]
