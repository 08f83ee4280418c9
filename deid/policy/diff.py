"""What changed between two policies, rule by rule: for the steward UI's draft-vs-published view and
the history of versions (and for anyone reviewing a policy change).

`diff_policies(old, new)` compares the rules of the main output, each purpose (added, removed, its
settings and its rules), k-anonymity enforcement and the description; versions and status are not changes of content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from deid.policy.model import Policy

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class PolicyChange:
    kind: ChangeKind
    where: str  # "rules.user_id", "purposes.recommender", "purposes.recommender.rules.email", "description"
    before: Any = None  # the rule document (or setting) before; None when added
    after: Any = None  # after; None when removed
    path: str | None = None  # the field path when the change is to a rule
    purpose: str | None = None  # the purpose it belongs to (None: the main output)


def _diff_rules(
    prefix: str, old: dict[str, Any], new: dict[str, Any], purpose: str | None = None
) -> list[PolicyChange]:
    changes = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        where = f"{prefix}.{path}"
        if before is None:
            changes.append(PolicyChange("added", where, None, after, path, purpose))
        elif after is None:
            changes.append(PolicyChange("removed", where, before, None, path, purpose))
        elif before != after:
            changes.append(PolicyChange("changed", where, before, after, path, purpose))
    return changes


def _purposes(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in document.get("purposes", [])}


def diff_policies(old: Policy | None, new: Policy) -> list[PolicyChange]:
    """Changes from `old` (None: nothing published yet, every rule is added) to `new`, in a stable order."""
    before = old.to_document() if old is not None else {"rules": {}}
    after = new.to_document()
    changes = _diff_rules("rules", before["rules"], after["rules"])
    old_purposes, new_purposes = _purposes(before), _purposes(after)
    for name in sorted(old_purposes.keys() | new_purposes.keys()):
        where = f"purposes.{name}"
        was, now = old_purposes.get(name), new_purposes.get(name)
        if was is None:
            changes.append(PolicyChange("added", where, None, now, purpose=name))
            continue
        if now is None:
            changes.append(PolicyChange("removed", where, was, None, purpose=name))
            continue
        settings_before = {k: v for k, v in was.items() if k != "rules"}
        settings_after = {k: v for k, v in now.items() if k != "rules"}
        if settings_before != settings_after:
            changes.append(PolicyChange("changed", where, settings_before, settings_after, purpose=name))
        changes.extend(_diff_rules(f"{where}.rules", was["rules"], now["rules"], name))
    k_before, k_after = before.get("k_anonymity", "measure"), after.get("k_anonymity", "measure")
    if k_before != k_after:
        changes.append(PolicyChange("changed", "k_anonymity", k_before, k_after))
    if before.get("description", "") != after.get("description", ""):
        description = (before.get("description", ""), after.get("description", ""))
        changes.append(PolicyChange("changed", "description", *description))
    return changes
