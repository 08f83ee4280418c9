"""Right to erasure by crypto-shredding: find a subject's per-subject keys in each scope, then destroy them.

Every value `encrypt` wrote with `key_scope: subject` carries the id of that subject's key; once the key
is destroyed no copy of those values (topics, downstream stores, backups of the output) can be decrypted
by anyone, the master key holder included. The keystore keeps a tombstone (id, name, dates) so readers
report "erased" rather than "unknown". A new event of the same subject gets a fresh key.

What erasure does not cover (and why): `mask` and `date_shift` use shared keys, not per-subject salts;
their outputs were never reversible, so there is nothing per subject to destroy. Values encrypted with
the domain's shared key (`key_scope: shared`) are not per subject either; use `key_scope: subject` for
fields that identify a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.keys.base import KeyInfo, Keystore


@dataclass(frozen=True)
class SubjectKeys:
    """One subject's keys in one scope (a domain): what an erasure would destroy there."""

    scope: str
    ref: str
    """Keyed hash of the subject id in this scope (the keystore's name for the subject; no id in clear)."""
    keys: list[KeyInfo]

    @property
    def active(self) -> list[KeyInfo]:
        return [k for k in self.keys if k.erased is None]

    @property
    def erased(self) -> list[KeyInfo]:
        return [k for k in self.keys if k.erased is not None]


@dataclass
class ErasurePlan:
    """A subject's keys across the scopes asked for, found without creating or changing anything."""

    scopes: list[SubjectKeys]
    erased_now: dict[str, list[str]] = field(default_factory=dict)
    """Scope → key ids destroyed by `erase_subject` (filled once it ran)."""
    scrubbed: bool | None = None
    """Whether the storage dropped the destroyed keys' bytes afterwards (None: not run yet)."""

    @property
    def active_count(self) -> int:
        return sum(len(s.active) for s in self.scopes)

    @property
    def known(self) -> bool:
        """The subject had at least one per-subject key (active or erased) in these scopes."""
        return any(s.keys for s in self.scopes)

    def audit_details(self, reason: str) -> dict[str, Any]:
        """What the catalog audit records: scopes, subject refs, key ids, counts, the reason. No subject id."""
        return {
            "reason": reason,
            "domains": [s.scope for s in self.scopes if s.keys],
            "domains_searched": [s.scope for s in self.scopes],
            "subject_refs": {s.scope: s.ref for s in self.scopes},
            "active_key_ids": {s.scope: [k.key_id for k in s.active] for s in self.scopes if s.active},
            "previously_erased_key_ids": {s.scope: [k.key_id for k in s.erased] for s in self.scopes if s.erased},
            "keys_to_erase": self.active_count,
        }


def plan_erasure(keystore: Keystore, subject: str, scopes: list[str]) -> ErasurePlan:
    return ErasurePlan(
        [SubjectKeys(s, keystore.subject_ref(s, subject), keystore.subject_key_infos(s, subject)) for s in scopes]
    )


def erase_subject(keystore: Keystore, subject: str, plan: ErasurePlan) -> ErasurePlan:
    """Destroy the subject's active keys in every scope of the plan (also ones created since it was made)."""
    for scope in plan.scopes:
        ids = keystore.erase_subject(scope.scope, subject, scrub=False)
        if ids:
            plan.erased_now[scope.scope] = ids
    plan.scrubbed = keystore.scrub() if plan.erased_now else True
    return plan
