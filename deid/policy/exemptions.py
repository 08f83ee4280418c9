"""Keeping PII in clear needs a reason: which rules keep a PII-tagged field, and whether each is exempted.

Safe default (fail closed): the catalog refuses to publish a policy with a `keep` on a field tagged
PII (any entity) unless that rule carries an `exemption` with a reason; the region guard refuses raw
egress on the same test. `pii` maps a field path to its entity (what the catalog's tags say); fields
tagged NON_PII or untagged are not in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deid.policy.model import Policy
from deid.policy.rules import Exemption, named_branches


@dataclass(frozen=True)
class KeptInClear:
    where: str  # document path of the branch: "rules.name", "rules.dob.with_consent", "purposes[0].rules.x"
    path: str  # the field path
    entity: str  # the PII entity its tag names
    exemption: Exemption | None


def kept_in_clear(policy: Policy, pii: Mapping[str, str]) -> list[KeptInClear]:
    """Every branch (main output and purposes) that keeps a PII-tagged field in clear."""
    found = []
    for prefix, rules in policy.rule_sets():
        for path, rule in rules.items():
            entity = pii.get(path)
            if entity is None:
                continue
            for suffix, branch in named_branches(rule):
                if branch.treatment == "keep":
                    found.append(KeptInClear(f"{prefix}.{path}{suffix}", path, entity, branch.exemption))
    return found


def exemption_problems(policy: Policy, pii: Mapping[str, str]) -> list[str]:
    """One line per keep of a PII field that has no exemption (empty: the policy may be published)."""
    return [
        f"{k.where}: keeps {k.path!r} (tagged {k.entity}) in clear; treat it, or add "
        "'exemption: {reason: …}' saying why it may stay in clear"
        for k in kept_in_clear(policy, pii)
        if k.exemption is None
    ]


def stamp_exemptions(policy: Policy, by: str, at: datetime) -> Policy:
    """The policy with `by`/`at` filled in on every exemption that lacks them (the catalog does this at publish)."""
    document = policy.to_document()
    changed = False
    for rules in (document["rules"], *(p["rules"] for p in document.get("purposes", []))):
        for rule in rules.values():
            for branch in (rule, rule.get("with_consent"), rule.get("without_consent")):
                changed |= _stamp(branch, by, at)
    return Policy.from_document(document) if changed else policy


def _stamp(branch: Any, by: str, at: datetime) -> bool:
    exemption = branch.get("exemption") if isinstance(branch, dict) else None
    if not isinstance(exemption, dict):
        return False
    before = dict(exemption)
    exemption.setdefault("by", by)
    exemption.setdefault("at", at.isoformat())
    return exemption != before
