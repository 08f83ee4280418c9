"""Queries over the catalog tables, one small repository per table, each bound to a session.

Services call these inside `Store.read()` / `Store.write()`; JSON columns go in and out as Python
objects here, so nothing above this module sees serialised text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from catalog.store.db import now_ms
from catalog.store.tables import AuditRow, ClassificationRow, EntityRow, Meta, RelationshipRow, TypeDefRow, UserRow

TYPEDEF_GENERATION = "typedefs_generation"


def new_guid() -> str:
    return str(uuid.uuid4())


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class MetaRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> str | None:
        row = self.session.get(Meta, key)
        return row.value if row else None

    def typedef_generation(self) -> int:
        return int(self.get(TYPEDEF_GENERATION) or 0)

    def bump_typedef_generation(self) -> None:
        row = self.session.get(Meta, TYPEDEF_GENERATION)
        if row is None:
            self.session.add(Meta(key=TYPEDEF_GENERATION, value="1"))
        else:
            row.value = str(int(row.value) + 1)


class TypeDefRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> Sequence[TypeDefRow]:
        return self.session.scalars(select(TypeDefRow).order_by(TypeDefRow.name)).all()

    def by_name(self, name: str) -> TypeDefRow | None:
        return self.session.scalars(select(TypeDefRow).where(TypeDefRow.name == name)).first()

    def add(self, definition: dict[str, Any], user: str) -> TypeDefRow:
        now = now_ms()
        row = TypeDefRow(
            guid=new_guid(),
            name=definition["name"],
            category=definition["category"],
            definition=dumps(definition),
            version=1,
            created_by=user,
            updated_by=user,
            create_time=now,
            update_time=now,
        )
        self.session.add(row)
        return row

    def replace(self, row: TypeDefRow, definition: dict[str, Any], user: str) -> None:
        row.definition = dumps(definition)
        row.version += 1
        row.updated_by = user
        row.update_time = now_ms()

    def delete(self, row: TypeDefRow) -> None:
        self.session.delete(row)


@dataclass
class EntityRecord:
    """An entity row with its JSON columns decoded."""

    row: EntityRow
    attributes: dict[str, Any]

    @property
    def guid(self) -> str:
        return self.row.guid


class EntityRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, guid: str, *, for_update: bool = False) -> EntityRecord | None:
        query = select(EntityRow).where(EntityRow.guid == guid)
        if for_update:
            query = query.with_for_update()
        row = self.session.scalars(query).first()
        return EntityRecord(row, loads(row.attributes)) if row else None

    def get_many(self, guids: Iterable[str], *, for_update: bool = False) -> dict[str, EntityRecord]:
        wanted = list(set(guids))
        found: dict[str, EntityRecord] = {}
        for start in range(0, len(wanted), 500):
            query = select(EntityRow).where(EntityRow.guid.in_(wanted[start : start + 500]))
            if for_update:
                query = query.with_for_update()
            found.update({row.guid: EntityRecord(row, loads(row.attributes)) for row in self.session.scalars(query)})
        return found

    def by_qualified_names(
        self, type_name: str, qualified_names: Iterable[str], *, for_update: bool = False
    ) -> dict[str, EntityRecord]:
        """qualifiedName -> the entity of exactly `type_name` (ACTIVE preferred), in a few queries."""
        wanted = list(set(qualified_names))
        found: dict[str, EntityRecord] = {}
        for start in range(0, len(wanted), 500):
            query = (
                select(EntityRow)
                .where(EntityRow.type_name == type_name, EntityRow.qualified_name.in_(wanted[start : start + 500]))
                .order_by(EntityRow.status.desc())  # DELETED first, so ACTIVE (later) wins below
            )
            if for_update:
                query = query.with_for_update()
            for row in self.session.scalars(query):
                found[row.qualified_name] = EntityRecord(row, loads(row.attributes))  # type: ignore[index]
        return found

    def by_qualified_name(
        self, type_names: Iterable[str], qualified_name: str, *, for_update: bool = False
    ) -> EntityRecord | None:
        query = (
            select(EntityRow)
            .where(EntityRow.type_name.in_(list(type_names)), EntityRow.qualified_name == qualified_name)
            .order_by(EntityRow.status, EntityRow.type_name)  # ACTIVE before DELETED
        )
        if for_update:
            query = query.with_for_update()
        row = self.session.scalars(query).first()
        return EntityRecord(row, loads(row.attributes)) if row else None

    def of_types(self, type_names: Iterable[str], *, include_deleted: bool) -> list[EntityRecord]:
        query = select(EntityRow).where(EntityRow.type_name.in_(list(type_names)))
        if not include_deleted:
            query = query.where(EntityRow.status == "ACTIVE")
        return [EntityRecord(row, loads(row.attributes)) for row in self.session.scalars(query)]

    def count_of_types(self, type_names: Iterable[str]) -> int:
        query = select(func.count()).select_from(EntityRow).where(EntityRow.type_name.in_(list(type_names)))
        return int(self.session.scalar(query) or 0)

    def add(
        self, type_name: str, attributes: dict[str, Any], user: str, guid: str | None = None, *, flush: bool = True
    ) -> EntityRecord:
        now = now_ms()
        row = EntityRow(
            guid=guid or new_guid(),
            type_name=type_name,
            qualified_name=attributes.get("qualifiedName"),
            status="ACTIVE",
            attributes=dumps(attributes),
            labels="[]",
            version=0,
            created_by=user,
            updated_by=user,
            create_time=now,
            update_time=now,
        )
        self.session.add(row)
        if flush:  # a concurrent twin fails at the flush, inside the retried transaction
            self.session.flush()
        return EntityRecord(row, attributes)

    def counts_by_type(self) -> dict[tuple[str, str], int]:
        """(type name, status) -> number of entities."""
        query = select(EntityRow.type_name, EntityRow.status, func.count()).group_by(
            EntityRow.type_name, EntityRow.status
        )
        return {(type_name, status): int(count) for type_name, status, count in self.session.execute(query)}

    def purge(self, guid: str) -> None:
        """Remove the entity row and everything that points at it (edges, classifications)."""
        self.session.execute(
            delete(RelationshipRow).where(or_(RelationshipRow.end1_guid == guid, RelationshipRow.end2_guid == guid))
        )
        self.session.execute(delete(ClassificationRow).where(ClassificationRow.entity_guid == guid))
        self.session.execute(delete(EntityRow).where(EntityRow.guid == guid))

    def save(self, record: EntityRecord, user: str, *, status: str | None = None, flush: bool = True) -> None:
        record.row.attributes = dumps(record.attributes)
        record.row.qualified_name = record.attributes.get("qualifiedName")
        if status is not None:
            record.row.status = status
        record.row.version += 1
        record.row.updated_by = user
        record.row.update_time = now_ms()
        if flush:
            self.session.flush()


class RelationshipRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def at_end(
        self, guid: str, side: int, type_name: str | None = None, *, active: bool = True
    ) -> list[RelationshipRow]:
        column = RelationshipRow.end1_guid if side == 1 else RelationshipRow.end2_guid
        query = select(RelationshipRow).where(column == guid)
        if type_name is not None:
            query = query.where(RelationshipRow.type_name == type_name)
        if active:
            query = query.where(RelationshipRow.status == "ACTIVE")
        return list(self.session.scalars(query.order_by(RelationshipRow.create_time, RelationshipRow.guid)))

    def touching(self, guids: Iterable[str]) -> list[RelationshipRow]:
        wanted = list(guids)
        query = select(RelationshipRow).where(
            RelationshipRow.status == "ACTIVE",
            or_(RelationshipRow.end1_guid.in_(wanted), RelationshipRow.end2_guid.in_(wanted)),
        )
        return list(self.session.scalars(query))

    def link(self, type_name: str, end1: str, end2: str, user: str) -> tuple[RelationshipRow, bool]:
        """The ACTIVE edge (re-activated or created); True when it changed."""
        existing = self.session.scalars(
            select(RelationshipRow).where(
                RelationshipRow.type_name == type_name,
                RelationshipRow.end1_guid == end1,
                RelationshipRow.end2_guid == end2,
            )
        ).first()
        now = now_ms()
        if existing is not None:
            if existing.status == "ACTIVE":
                return existing, False
            existing.status = "ACTIVE"
            existing.update_time = now
            return existing, True
        row = RelationshipRow(
            guid=new_guid(),
            type_name=type_name,
            end1_guid=end1,
            end2_guid=end2,
            status="ACTIVE",
            created_by=user,
            create_time=now,
            update_time=now,
        )
        self.session.add(row)
        self.session.flush()
        return row, True

    def unlink(self, row: RelationshipRow) -> None:
        row.status = "DELETED"
        row.update_time = now_ms()

    def count_of_type(self, type_name: str) -> int:
        query = select(func.count()).select_from(RelationshipRow).where(RelationshipRow.type_name == type_name)
        return int(self.session.scalar(query) or 0)


class ClassificationRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_entity(self, guid: str) -> list[ClassificationRow]:
        query = select(ClassificationRow).where(ClassificationRow.entity_guid == guid).order_by(ClassificationRow.id)
        return list(self.session.scalars(query))

    def of_entities(self, guids: Iterable[str]) -> dict[str, list[ClassificationRow]]:
        wanted = list(set(guids))
        found: dict[str, list[ClassificationRow]] = {guid: [] for guid in wanted}
        for start in range(0, len(wanted), 500):
            query = (
                select(ClassificationRow)
                .where(ClassificationRow.entity_guid.in_(wanted[start : start + 500]))
                .order_by(ClassificationRow.id)
            )
            for row in self.session.scalars(query):
                found[row.entity_guid].append(row)
        return found

    def get(self, guid: str, type_name: str) -> ClassificationRow | None:
        query = select(ClassificationRow).where(
            ClassificationRow.entity_guid == guid, ClassificationRow.type_name == type_name
        )
        return self.session.scalars(query).first()

    def add(self, guid: str, type_name: str, attributes: dict[str, Any], propagate: bool, remove: bool) -> None:
        self.session.add(
            ClassificationRow(
                entity_guid=guid,
                type_name=type_name,
                attributes=dumps(attributes),
                propagate=propagate,
                remove_propagations=remove,
                validity_periods="[]",
            )
        )
        self.session.flush()

    def delete(self, row: ClassificationRow) -> None:
        self.session.delete(row)
        self.session.flush()

    def count_of_types(self, type_names: Iterable[str]) -> int:
        query = (
            select(func.count()).select_from(ClassificationRow).where(ClassificationRow.type_name.in_(list(type_names)))
        )
        return int(self.session.scalar(query) or 0)

    def counts_by_type(self) -> dict[str, int]:
        query = select(ClassificationRow.type_name, func.count()).group_by(ClassificationRow.type_name)
        return {type_name: int(count) for type_name, count in self.session.execute(query)}

    def entity_guids_with(self, type_names: Iterable[str] | None) -> set[str]:
        """Entities carrying any of `type_names` (any classification when None)."""
        query = select(ClassificationRow.entity_guid)
        if type_names is not None:
            query = query.where(ClassificationRow.type_name.in_(list(type_names)))
        return set(self.session.scalars(query))


class AuditRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        user: str,
        action: str,
        *,
        entity_guid: str | None = None,
        type_name: str | None = None,
        details: Any = None,
        before: Any = None,
        after: Any = None,
        flush: bool = True,
    ) -> AuditRow:
        row = AuditRow(
            timestamp=now_ms(),
            user_name=user,
            action=action,
            entity_guid=entity_guid,
            type_name=type_name,
            details=None if details is None else dumps(details),
            before_state=None if before is None else dumps(before),
            after_state=None if after is None else dumps(after),
        )
        self.session.add(row)
        if flush:  # gives the row its id
            self.session.flush()
        return row

    def for_entity(
        self, guid: str, *, action: str | None, before_id: int | None, offset: int, count: int, newest_first: bool
    ) -> list[AuditRow]:
        query = select(AuditRow).where(AuditRow.entity_guid == guid)
        if action:
            query = query.where(AuditRow.action == action)
        if before_id is not None:
            query = query.where(AuditRow.id < before_id if newest_first else AuditRow.id > before_id)
        order = AuditRow.id.desc() if newest_first else AuditRow.id.asc()
        return list(self.session.scalars(query.order_by(order).offset(offset).limit(count)))

    def exists_for_entity(self, guid: str) -> bool:
        return (
            self.session.scalars(select(AuditRow.id).where(AuditRow.entity_guid == guid).limit(1)).first() is not None
        )

    def feed(
        self,
        *,
        after_id: int,
        limit: int,
        user: str | None = None,
        action: str | None = None,
        entity_guid: str | None = None,
        type_name: str | None = None,
    ) -> list[AuditRow]:
        query = select(AuditRow).where(AuditRow.id > after_id)
        for column, value in (
            (AuditRow.user_name, user),
            (AuditRow.action, action),
            (AuditRow.entity_guid, entity_guid),
            (AuditRow.type_name, type_name),
        ):
            if value is not None:
                query = query.where(column == value)
        return list(self.session.scalars(query.order_by(AuditRow.id).limit(limit)))


class UserRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, name: str) -> UserRow | None:
        return self.session.get(UserRow, name)

    def all(self) -> list[UserRow]:
        return list(self.session.scalars(select(UserRow).order_by(UserRow.name)))

    def count_with_role(self, role: str) -> int:
        return int(self.session.scalar(select(func.count()).select_from(UserRow).where(UserRow.role == role)) or 0)

    def add(self, name: str, password_hash: str, role: str) -> UserRow:
        now = now_ms()
        row = UserRow(name=name, password_hash=password_hash, role=role, create_time=now, update_time=now)
        self.session.add(row)
        self.session.flush()
        return row

    def update(self, name: str, *, password_hash: str | None = None, role: str | None = None) -> None:
        values: dict[str, Any] = {"update_time": now_ms()}
        if password_hash is not None:
            values["password_hash"] = password_hash
        if role is not None:
            values["role"] = role
        self.session.execute(update(UserRow).where(UserRow.name == name).values(**values))

    def delete(self, row: UserRow) -> None:
        self.session.delete(row)
