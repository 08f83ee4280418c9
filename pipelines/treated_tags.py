"""Tags follow the data and stop at treatment: the anonymised topics' fields in the catalog say what
happened to the personal data they came from.

For each output topic of a published policy (main and purposes), each field whose raw twin is tagged
PII gets an `avro_field` `<topic>.<path>@<cluster>` classified
- `PII_TREATED` {entity, treatment} when every branch of its rule treats it (mask, encrypt, …), so a
  search for PII across the catalog finds the raw side, not the treated copies;
- its PII entity itself (status confirmed, source steward, note naming the exemption) when a branch
  keeps it in clear by exemption: that copy still holds personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deid.policy import ConsentRule, Policy, Rule, rule_branches
from deid.policy.rules import EncryptParams

TREATED = "PII_TREATED"


def _treatment(rule: Rule) -> str:
    labels = [b.params.label if isinstance(b.params, EncryptParams) else b.treatment for b in rule_branches(rule)]
    text = " or ".join(dict.fromkeys(labels))
    return f"{text} (by consent)" if isinstance(rule, ConsentRule) else text


def field_classification(rule: Rule, entity: str) -> dict[str, Any] | None:
    """The classification of the anonymised copy of a field tagged `entity`; None when it is dropped."""
    branches = rule_branches(rule)
    if all(b.treatment == "drop" for b in branches):
        return None
    kept = [b for b in branches if b.treatment == "keep"]
    if kept:
        reasons = "; ".join(b.exemption.reason for b in kept if b.exemption is not None)
        note = f"kept in clear by exemption: {reasons}" if reasons else "kept in clear"
        return {"typeName": entity, "attributes": {"status": "confirmed", "source": "steward", "note": note}}
    return {"typeName": TREATED, "attributes": {"entity": entity, "treatment": _treatment(rule)}}


def treated_fields(policy: Policy, pii: Mapping[str, str], cluster: str) -> list[dict[str, Any]]:
    """`avro_field` entities (with their one classification) for every output topic of the policy."""
    outputs = [(f"{policy.domain}-anonymised-data", policy.rules)]
    outputs += [(policy.purpose_topic(p), p.rules) for p in policy.purposes]
    entities = []
    for topic, rules in outputs:
        for path, rule in rules.items():
            entity = pii.get(path)
            classification = field_classification(rule, entity) if entity else None
            if classification is None:
                continue
            attributes = {"qualifiedName": f"{topic}.{path}@{cluster}", "name": path}
            entities.append({"typeName": "avro_field", "attributes": attributes, "classifications": [classification]})
    return entities
