"""Where the registry keeps subjects, versions, schema ids and compatibility levels.

`RegistryStore` is the interface the HTTP layer uses; `SqlRegistryStore` implements it on SQLAlchemy 2.0
(SQLite or PostgreSQL, the catalog's database) with the tables of `catalog.registry.tables`.

Registration is safe under concurrency, within a process and across processes: the compatibility check
and the insert run in one transaction, and two writers racing to create the same schema row or the same
subject version collide on a unique constraint; the loser rolls back and retries, and then finds what the
winner wrote (same schema → same id and, under one subject, same version).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from catalog.registry.avro_schema import AvroSchema
from catalog.registry.errors import store_error
from catalog.registry.tables import GLOBAL_SCOPE, RegistryConfig, RegistrySchema, RegistrySubjectVersion


@dataclass(frozen=True)
class SubjectVersion:
    subject: str
    version: int
    schema_id: int
    schema: str  # the normalised schema text
    schema_type: str = "AVRO"
    deleted: bool = False


@dataclass(frozen=True)
class StoredSchema:
    schema_id: int
    schema: str
    schema_type: str = "AVRO"


@dataclass(frozen=True)
class Registration:
    subject: str
    version: int
    schema_id: int
    schema: str
    created: bool  # False: the subject already had this schema as a live version


# Called inside the registration transaction with the subject's live versions (oldest first); returns
# incompatibility messages (non-empty aborts the registration) or raises.
CompatibilityGate = Callable[[Sequence[SubjectVersion]], list[str]]


class IncompatibleSchema(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("incompatible schema")
        self.messages = messages


class RegistryStore(Protocol):
    def subjects(self, *, deleted: bool = False, deleted_only: bool = False, prefix: str = "") -> list[str]:
        """Subject names, sorted: with a live version; `deleted` adds all-soft-deleted ones;
        `deleted_only` lists subjects that have soft-deleted versions."""
        ...

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[SubjectVersion]:
        """The subject's versions, ascending; live only unless `deleted`/`deleted_only`."""
        ...

    def version(self, subject: str, version: int | None, *, deleted: bool = False) -> SubjectVersion | None:
        """One version (`None` = the latest), or None; soft-deleted ones only with `deleted`."""
        ...

    def find(self, subject: str, schema: AvroSchema, *, deleted: bool = False) -> SubjectVersion | None:
        """The subject's version holding `schema` (the newest if several), or None."""
        ...

    def schema(self, schema_id: int) -> StoredSchema | None:
        """Schema `schema_id` while some subject version (live or soft-deleted) uses it."""
        ...

    def usages(self, schema_id: int, *, deleted: bool = False) -> list[SubjectVersion]:
        """Every subject version that is schema `schema_id`, by subject then version."""
        ...

    def register(self, subject: str, schema: AvroSchema, gate: CompatibilityGate) -> Registration:
        """Add `schema` to `subject` (or return its live version); raises IncompatibleSchema when `gate` objects."""
        ...

    def soft_delete_version(self, subject: str, version: int) -> None: ...

    def hard_delete_version(self, subject: str, version: int) -> None: ...

    def soft_delete_subject(self, subject: str) -> list[int]:
        """Soft-delete every live version and drop the subject's compatibility level; returns those versions."""
        ...

    def hard_delete_subject(self, subject: str) -> list[int]:
        """Remove every version row and the subject's compatibility level; returns the versions removed."""
        ...

    def compatibility(self, subject: str | None) -> str | None:
        """The level set for `subject` (None = global), or None when not set."""
        ...

    def set_compatibility(self, subject: str | None, level: str) -> None: ...

    def delete_compatibility(self, subject: str | None) -> str | None:
        """Remove the level set for `subject` (None = global); returns it."""
        ...


_ATTEMPTS = 8
_T = TypeVar("_T")


def _version_row(row: RegistrySubjectVersion, schema: RegistrySchema) -> SubjectVersion:
    return SubjectVersion(row.subject, row.version, row.schema_id, schema.schema_text, schema.schema_type, row.deleted)


class SqlRegistryStore:
    """`RegistryStore` on an SQLAlchemy engine (portable SQL only: SQLite and PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Serialises this process's writers (SQLite would otherwise answer "database is locked" when two
        # transactions upgrade their read locks); other processes are handled by constraints + retries.
        self._write_lock = threading.Lock()

    # --- reads -------------------------------------------------------------------------------------

    def _versions_query(self, subject: str | None = None, *, deleted: bool = False, deleted_only: bool = False):
        query = select(RegistrySubjectVersion, RegistrySchema).join(
            RegistrySchema, RegistrySchema.id == RegistrySubjectVersion.schema_id
        )
        if subject is not None:
            query = query.where(RegistrySubjectVersion.subject == subject)
        if deleted_only:
            query = query.where(RegistrySubjectVersion.deleted.is_(True))
        elif not deleted:
            query = query.where(RegistrySubjectVersion.deleted.is_(False))
        return query.order_by(RegistrySubjectVersion.subject, RegistrySubjectVersion.version)

    def subjects(self, *, deleted: bool = False, deleted_only: bool = False, prefix: str = "") -> list[str]:
        query = select(RegistrySubjectVersion.subject).distinct()
        if deleted_only:
            query = query.where(RegistrySubjectVersion.deleted.is_(True))
        elif not deleted:
            query = query.where(RegistrySubjectVersion.deleted.is_(False))
        with Session(self.engine) as session:
            names = session.scalars(query).all()
        return sorted(name for name in names if name.startswith(prefix))

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[SubjectVersion]:
        with Session(self.engine) as session:
            rows = session.execute(self._versions_query(subject, deleted=deleted, deleted_only=deleted_only)).all()
            return [_version_row(row, schema) for row, schema in rows]

    def version(self, subject: str, version: int | None, *, deleted: bool = False) -> SubjectVersion | None:
        query = self._versions_query(subject, deleted=deleted)
        if version is None:
            query = query.order_by(None).order_by(RegistrySubjectVersion.version.desc()).limit(1)
        else:
            query = query.where(RegistrySubjectVersion.version == version)
        with Session(self.engine) as session:
            found = session.execute(query).first()
            return _version_row(*found) if found else None

    def find(self, subject: str, schema: AvroSchema, *, deleted: bool = False) -> SubjectVersion | None:
        query = (
            self._versions_query(subject, deleted=deleted)
            .where(RegistrySchema.fingerprint == schema.fingerprint)
            .order_by(None)
            .order_by(RegistrySubjectVersion.deleted, RegistrySubjectVersion.version.desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            found = session.execute(query).first()
            return _version_row(*found) if found else None

    def schema(self, schema_id: int) -> StoredSchema | None:
        used = select(RegistrySubjectVersion.schema_id).where(RegistrySubjectVersion.schema_id == schema_id).exists()
        with Session(self.engine) as session:
            row = session.scalars(select(RegistrySchema).where(RegistrySchema.id == schema_id, used)).first()
            return StoredSchema(row.id, row.schema_text, row.schema_type) if row else None

    def usages(self, schema_id: int, *, deleted: bool = False) -> list[SubjectVersion]:
        query = self._versions_query(deleted=deleted).where(RegistrySubjectVersion.schema_id == schema_id)
        with Session(self.engine) as session:
            return [_version_row(row, schema) for row, schema in session.execute(query).all()]

    def compatibility(self, subject: str | None) -> str | None:
        with Session(self.engine) as session:
            row = session.get(RegistryConfig, GLOBAL_SCOPE if subject is None else subject)
            return row.compatibility if row else None

    # --- writes ------------------------------------------------------------------------------------

    def _write(self, work: Callable[[Session], _T]) -> _T:
        """Run `work` in one transaction, retrying when a concurrent writer won a race."""
        for attempt in range(_ATTEMPTS):
            try:
                with self._write_lock, Session(self.engine) as session, session.begin():
                    return work(session)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise store_error("concurrent writers kept colliding; try again") from None
            except OperationalError as exc:  # e.g. SQLite busy with another process's transaction
                if attempt == _ATTEMPTS - 1:
                    raise store_error(type(exc.orig).__name__ if exc.orig else "operational error") from None
            time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def register(self, subject: str, schema: AvroSchema, gate: CompatibilityGate) -> Registration:
        return self._write(lambda session: self._register(session, subject, schema, gate))

    def _register(self, session: Session, subject: str, schema: AvroSchema, gate: CompatibilityGate) -> Registration:
        row = session.scalars(select(RegistrySchema).where(RegistrySchema.fingerprint == schema.fingerprint)).first()
        if row is None:
            row = RegistrySchema(fingerprint=schema.fingerprint, schema_type="AVRO", schema_text=schema.text)
            session.add(row)
            session.flush()  # assigns the id; a concurrent twin fails here on the unique fingerprint
        live = [_version_row(v, s) for v, s in session.execute(self._versions_query(subject)).all()]
        for existing in live:
            if existing.schema_id == row.id:
                return Registration(subject, existing.version, row.id, row.schema_text, created=False)
        messages = gate(live)
        if messages:
            raise IncompatibleSchema(messages)
        highest = session.scalar(
            select(func.max(RegistrySubjectVersion.version)).where(RegistrySubjectVersion.subject == subject)
        )
        version = (highest or 0) + 1
        session.add(RegistrySubjectVersion(subject=subject, version=version, schema_id=row.id, deleted=False))
        session.flush()  # a concurrent registration of the same version fails here on the primary key
        return Registration(subject, version, row.id, row.schema_text, created=True)

    def soft_delete_version(self, subject: str, version: int) -> None:
        self._write(
            lambda session: session.execute(
                update(RegistrySubjectVersion)
                .where(RegistrySubjectVersion.subject == subject, RegistrySubjectVersion.version == version)
                .values(deleted=True)
            )
        )

    def hard_delete_version(self, subject: str, version: int) -> None:
        self._write(
            lambda session: session.execute(
                delete(RegistrySubjectVersion).where(
                    RegistrySubjectVersion.subject == subject, RegistrySubjectVersion.version == version
                )
            )
        )

    def soft_delete_subject(self, subject: str) -> list[int]:
        def work(session: Session) -> list[int]:
            live = RegistrySubjectVersion.subject == subject, RegistrySubjectVersion.deleted.is_(False)
            versions = list(session.scalars(select(RegistrySubjectVersion.version).where(*live)).all())
            session.execute(update(RegistrySubjectVersion).where(*live).values(deleted=True))
            session.execute(delete(RegistryConfig).where(RegistryConfig.subject == subject))
            return sorted(versions)

        return self._write(work)

    def hard_delete_subject(self, subject: str) -> list[int]:
        def work(session: Session) -> list[int]:
            mine = RegistrySubjectVersion.subject == subject
            versions = list(session.scalars(select(RegistrySubjectVersion.version).where(mine)).all())
            session.execute(delete(RegistrySubjectVersion).where(mine))
            session.execute(delete(RegistryConfig).where(RegistryConfig.subject == subject))
            return sorted(versions)

        return self._write(work)

    def set_compatibility(self, subject: str | None, level: str) -> None:
        def work(session: Session) -> None:
            key = GLOBAL_SCOPE if subject is None else subject
            row = session.get(RegistryConfig, key)
            if row is None:
                session.add(RegistryConfig(subject=key, compatibility=level))
            else:
                row.compatibility = level

        self._write(work)

    def delete_compatibility(self, subject: str | None) -> str | None:
        def work(session: Session) -> str | None:
            row = session.get(RegistryConfig, GLOBAL_SCOPE if subject is None else subject)
            if row is None:
                return None
            session.delete(row)
            return row.compatibility

        return self._write(work)
