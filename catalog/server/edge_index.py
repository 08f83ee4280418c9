"""Relationship edges of the entities one write touches, loaded in a few queries and kept in memory.

A bulk write of N entities would otherwise ask the database for each entity's edges and for each
edge it links (2 queries per reference, each with a flush): that made large bulk creates slow and,
with the per-row flushes, superlinear. The index is loaded once for the existing entities the write
touches (brand-new entities have no edges yet), updated as the write links and unlinks, and its new
rows are flushed together.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from catalog.store.db import now_ms
from catalog.store.repository import new_guid
from catalog.store.tables import RelationshipRow

_CHUNK = 500


class EdgeIndex:
    def __init__(self, session: Session, user: str) -> None:
        self.session = session
        self.user = user
        self._loaded: set[str] = set()
        self._by_ends: dict[tuple[str, str, str], RelationshipRow] = {}  # (type, end1, end2) -> any status
        self._at_end: dict[tuple[str, int, str], list[RelationshipRow]] = {}  # (guid, side, type) -> rows

    def load(self, guids: Iterable[str]) -> None:
        """Fetch every edge (any status) touching these stored entities, once per entity."""
        wanted = [g for g in dict.fromkeys(guids) if g not in self._loaded]
        self._loaded.update(wanted)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = select(RelationshipRow).where(
                or_(RelationshipRow.end1_guid.in_(chunk), RelationshipRow.end2_guid.in_(chunk))
            )
            for row in sorted(self.session.scalars(query), key=lambda r: (r.create_time, r.guid)):
                self._remember(row)

    def mark_new(self, guids: Iterable[str]) -> None:
        """Entities created by this write: nothing stored to load."""
        self._loaded.update(guids)

    def _remember(self, row: RelationshipRow) -> None:
        key = (row.type_name, row.end1_guid, row.end2_guid)
        if key in self._by_ends:
            return
        self._by_ends[key] = row
        self._at_end.setdefault((row.end1_guid, 1, row.type_name), []).append(row)
        self._at_end.setdefault((row.end2_guid, 2, row.type_name), []).append(row)

    def at_end(self, guid: str, side: int, type_name: str) -> list[RelationshipRow]:
        """ACTIVE edges of `type_name` with `guid` at `side`, oldest first."""
        if guid not in self._loaded:
            self.load([guid])
        rows = self._at_end.get((guid, side, type_name), [])
        return [row for row in rows if row.status == "ACTIVE"]

    def link(self, type_name: str, end1: str, end2: str) -> bool:
        """Make the edge ACTIVE (re-activated or created); True when it changed."""
        for guid in (end1, end2):
            if guid not in self._loaded:
                self.load([guid])
        now = now_ms()
        existing = self._by_ends.get((type_name, end1, end2))
        if existing is not None:
            if existing.status == "ACTIVE":
                return False
            existing.status = "ACTIVE"
            existing.update_time = now
            return True
        row = RelationshipRow(
            guid=new_guid(),
            type_name=type_name,
            end1_guid=end1,
            end2_guid=end2,
            status="ACTIVE",
            created_by=self.user,
            create_time=now,
            update_time=now,
        )
        self.session.add(row)
        self._remember(row)
        return True

    @staticmethod
    def unlink(row: RelationshipRow) -> None:
        row.status = "DELETED"
        row.update_time = now_ms()
