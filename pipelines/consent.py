"""Subject-level consent: an opt-out is the person's, not the row's.

When a domain's consent has `scope: subject`, the ledger keeps, per subject, a cap on the consent
level: a row whose consent value is below the subject's current cap (an opt-out, e.g.
`data_share_consent: false`) lowers the cap, and every later row of that subject is treated at
min(its own level, the cap). Rows never raise the cap: only an explicit opt-in does
(`deid subject grant`, newer than the opt-out), and `deid subject withdraw` records an opt-out
without an event. Rows without a consent value do not change the cap.

Stored in the keystore's database (`deid_consent`, SQLite or PostgreSQL), keyed by the keystore's
keyed hash of the subject (never the subject id), so it survives restarts and is shared by every
worker of the domain; raw topics are keyed by subject, so one worker owns a subject at a time and
reads its cap fresh at every batch (`load`). Within a batch an opt-out applies to all the subject's
rows of that batch, even those before it: stricter, never looser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from deid.domains import ConsentSpec
from pipelines.keys.base import Keystore
from pipelines.keys.local import create_tables
from pipelines.transforms.base import as_text

_IN_CHUNK = 500
metadata = MetaData()
consent_table = Table(
    "deid_consent",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("subject_ref", String(64), primary_key=True),
    Column("cap", Integer, nullable=True),  # NULL: no cap (opted in again)
    Column("updated_at", Float, nullable=False),
    Column("source", String(16), nullable=False),  # row | withdraw | grant
)


class ConsentLedger:
    """Per-subject consent caps of one domain (`scope`), in the keystore's database."""

    def __init__(self, keystore: Keystore, engine: Engine, scope: str) -> None:
        self.keystore, self.engine, self.scope = keystore, engine, scope
        create_tables(metadata, engine)
        self._refs: dict[str, str] = {}

    @classmethod
    def of(cls, keystore: Any, scope: str) -> ConsentLedger:
        engine = getattr(keystore, "engine", None)
        if engine is None:
            raise TypeError(f"{type(keystore).__name__} keeps no database for subject consent")
        return cls(keystore, engine, scope)

    def ref(self, subject: str) -> str:
        ref = self._refs.get(subject)
        if ref is None:
            if len(self._refs) > 100_000:
                self._refs.clear()
            ref = self._refs[subject] = self.keystore.subject_ref(self.scope, subject)
        return ref

    def caps(self, subjects: Iterable[str]) -> dict[str, int | None]:
        """subject → its stored cap (None: recorded but uncapped); subjects never seen are absent."""
        by_ref = {self.ref(s): s for s in set(subjects)}
        refs, found = list(by_ref), {}
        with self.engine.connect() as conn:
            for start in range(0, len(refs), _IN_CHUNK):
                chunk = refs[start : start + _IN_CHUNK]
                query = select(consent_table.c.subject_ref, consent_table.c.cap).where(
                    consent_table.c.scope == self.scope, consent_table.c.subject_ref.in_(chunk)
                )
                for row in conn.execute(query):
                    found[by_ref[row.subject_ref]] = row.cap
        return found

    def record(self, caps: dict[str, int | None], source: str) -> None:
        """Store these caps (insert or replace), in one transaction."""
        if not caps:
            return
        now = time.time()
        rows = [
            {"scope": self.scope, "subject_ref": self.ref(s), "cap": cap, "updated_at": now, "source": source}
            for s, cap in sorted(caps.items())
        ]
        table = consent_table
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    existing = {
                        r.subject_ref
                        for r in conn.execute(
                            select(table.c.subject_ref).where(
                                table.c.scope == self.scope, table.c.subject_ref.in_([r["subject_ref"] for r in rows])
                            )
                        )
                    }
                    for row in rows:
                        if row["subject_ref"] in existing:
                            conn.execute(
                                table.update()
                                .where(table.c.scope == self.scope, table.c.subject_ref == row["subject_ref"])
                                .values(cap=row["cap"], updated_at=now, source=source)
                            )
                    new = [row for row in rows if row["subject_ref"] not in existing]
                    if new:
                        conn.execute(table.insert(), new)
                return
            except IntegrityError:
                continue  # another worker inserted one of them meanwhile: update instead

    def withdraw(self, subject: str, level: int = 0) -> None:
        self.record({subject: level}, "withdraw")

    def grant(self, subject: str) -> None:
        self.record({subject: None}, "grant")


class SubjectConsent:
    """What the plan asks per batch: the effective level of each row under its subject's cap."""

    def __init__(self, ledger: ConsentLedger, spec: ConsentSpec) -> None:
        self.ledger, self.spec = ledger, spec
        self.caps: dict[str, int | None] = {}
        """The current batch's subjects → cap (None: uncapped)."""

    def load(self, rows: Iterable[tuple[str, Any]]) -> int:
        """Before a batch: (subject, raw consent value) of its rows. Reads the subjects' caps, lowers them
        where a row opts out, stores the lowered ones; the number of subjects whose cap was lowered."""
        rows = list(rows)
        stored = self.ledger.caps(subject for subject, _ in rows)
        caps: dict[str, int | None] = {s: stored.get(s) for s, _ in rows}
        lowered: dict[str, int | None] = {}
        top = self.spec.max_level
        for subject, raw in rows:
            if raw is None:
                continue
            level, cap = self.spec.level_of(raw), caps[subject]
            if level < (top if cap is None else cap):
                caps[subject] = lowered[subject] = level
        self.ledger.record(lowered, "row")
        self.caps = caps
        return len(lowered)

    def level(self, subject: str | None, raw: Any, row_level: int) -> int:
        """The row's level under its subject's cap (a subject not loaded is loaded now: fail closed)."""
        if subject is None:
            return row_level
        if subject not in self.caps:
            self.load([(subject, raw)])
        cap = self.caps.get(subject)
        return row_level if cap is None else min(row_level, cap)

    def reader(
        self, subject: Callable[[Any], Any], raw: Callable[[Any], Any], row_level: Callable[[Any], int]
    ) -> Callable[[Any], int]:
        """A consent reader for the plan: the row's level under its subject's cap."""
        level = self.level

        def capped(record: Any) -> int:
            return level(as_text(subject(record)), raw(record), row_level(record))

        return capped
