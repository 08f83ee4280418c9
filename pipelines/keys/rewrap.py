"""Re-wrap data keys under a new master key without touching any data they protect.

Master key rotation: `deid keys new-master-key NEW`, point DEID_MASTER_KEY_FILE at NEW, run
`deid keys rewrap --old-master-key-file OLD` (or DEID_MASTER_KEY="new,old"). Every key still wrapped by
another master key is unwrapped with the old one and wrapped again with the new one, a batch of rows per
transaction; key ids, generations and material stay the same, so every token stays readable. Erased keys
have nothing to re-wrap. When every row carries the new fingerprint the old master key can be destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine

from pipelines.keys.base import KeystoreError
from pipelines.keys.master import MasterKey

BATCH = 1000


@dataclass
class RewrapReport:
    """Counts and master key fingerprints only (fingerprints reveal nothing of a key)."""

    fingerprint: str
    rewrapped: int = 0
    already_current: int = 0
    erased: int = 0
    rewrapped_from: dict[str, int] = field(default_factory=dict)
    """Old master key fingerprint → keys moved off it."""

    def details(self) -> dict[str, Any]:
        return {
            "master_fingerprint": self.fingerprint,
            "rewrapped": self.rewrapped,
            "already_current": self.already_current,
            "erased_skipped": self.erased,
            "rewrapped_from": self.rewrapped_from,
        }


def rewrap_keys(engine: Engine, table: Table, master: MasterKey, batch: int = BATCH) -> RewrapReport:
    """Move every live key onto `master.fingerprint`; KeystoreError (nothing changed) if a key's master is missing."""
    report = RewrapReport(master.fingerprint)
    by_master = select(table.c.master_fingerprint, func.count()).group_by(table.c.master_fingerprint)
    with engine.connect() as conn:
        live = dict(conn.execute(by_master.where(table.c.wrapped.is_not(None))).all())
        report.erased = conn.execute(select(func.count()).where(table.c.wrapped.is_(None))).scalar_one()
    missing = {fp: n for fp, n in live.items() if fp not in master.fingerprints}
    if missing:
        held = ", ".join(f"{n} key(s) wrapped by master key {fp}" for fp, n in sorted(missing.items()))
        raise KeystoreError(
            f"cannot re-wrap: {held}, which {master.source} does not hold; give the old master key with "
            "--old-master-key-file (or DEID_MASTER_KEY=new,old); nothing was changed"
        )
    report.already_current = live.get(master.fingerprint, 0)
    last = ""
    while True:
        query = (
            select(table.c.key_id, table.c.wrapped, table.c.master_fingerprint)
            .where(
                table.c.wrapped.is_not(None),
                table.c.master_fingerprint != master.fingerprint,
                table.c.key_id > last,
            )
            .order_by(table.c.key_id)
            .limit(batch)
        )
        with engine.begin() as conn:
            rows = conn.execute(query).all()
            for row in rows:
                try:
                    wrapped = master.wrap(master.unwrap(row.wrapped))
                except InvalidToken:
                    raise KeystoreError(
                        f"cannot unwrap key {row.key_id!r}: it is labelled with master key {row.master_fingerprint} "
                        "but that key does not open it"
                    ) from None
                changed = conn.execute(
                    update(table)
                    .where(table.c.key_id == row.key_id, table.c.erased_at.is_(None))  # never revive an erased key
                    .values(wrapped=wrapped, master_fingerprint=master.fingerprint)
                ).rowcount
                if changed:
                    report.rewrapped += 1
                    moved = report.rewrapped_from
                    moved[row.master_fingerprint] = moved.get(row.master_fingerprint, 0) + 1
        if len(rows) < batch:
            return report
        last = rows[-1].key_id
