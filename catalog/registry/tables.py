"""The registry's tables, on their own `MetaData` so the catalog's migrations can include them.

DDL as SQLAlchemy emits it for SQLite (PostgreSQL: `id SERIAL`, `TIMESTAMP WITH TIME ZONE`, and the partial
index ends `WHERE deleted = false`; tests/unit/test_registry_tables.py compiles both):

    CREATE TABLE registry_schemas (
        id INTEGER NOT NULL,                      -- the global schema id of Confluent's wire format
        fingerprint VARCHAR(64) NOT NULL,         -- SHA-256 of the normalised schema text
        schema_type VARCHAR(16) NOT NULL,
        schema_text TEXT NOT NULL,
        created_at DATETIME NOT NULL,
        CONSTRAINT pk_registry_schemas PRIMARY KEY (id),
        CONSTRAINT uq_registry_schemas_fingerprint UNIQUE (fingerprint)
    );
    CREATE TABLE registry_subject_versions (
        subject VARCHAR(512) NOT NULL,
        version INTEGER NOT NULL,
        schema_id INTEGER NOT NULL,
        deleted BOOLEAN NOT NULL,                 -- soft delete; a permanent delete removes the row
        created_at DATETIME NOT NULL,
        CONSTRAINT pk_registry_subject_versions PRIMARY KEY (subject, version),
        CONSTRAINT fk_registry_subject_versions_schema_id_registry_schemas
            FOREIGN KEY(schema_id) REFERENCES registry_schemas (id)
    );
    CREATE INDEX ix_registry_subject_versions_schema_id ON registry_subject_versions (schema_id);
    CREATE UNIQUE INDEX uq_registry_live_subject_schema
        ON registry_subject_versions (subject, schema_id) WHERE deleted = 0;
    CREATE TABLE registry_config (
        subject VARCHAR(512) NOT NULL,            -- '' holds the global level
        compatibility VARCHAR(32) NOT NULL,
        updated_at DATETIME NOT NULL,
        CONSTRAINT pk_registry_config PRIMARY KEY (subject)
    );

Schema rows are never deleted, so a schema registered again after a permanent delete keeps its id.
The two unique constraints make concurrent registration safe: two writers racing to add the same
schema, or the next version of a subject, collide on a constraint and the loser retries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, column, false
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

GLOBAL_SCOPE = ""  # registry_config.subject of the global compatibility level (subjects are never empty)
SUBJECT_LENGTH = 512

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> datetime:
    return datetime.now(UTC)


class RegistryBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RegistrySchema(RegistryBase):
    """One distinct schema; its id is shared by every subject that registers the same schema."""

    __tablename__ = "registry_schemas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    schema_type: Mapped[str] = mapped_column(String(16), default="AVRO")
    schema_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RegistrySubjectVersion(RegistryBase):
    """Version `version` of `subject` is schema `schema_id`."""

    __tablename__ = "registry_subject_versions"
    __table_args__ = (
        # A schema is live at most once per subject: registering it again returns that version.
        Index(
            "uq_registry_live_subject_schema",
            "subject",
            "schema_id",
            unique=True,
            sqlite_where=column("deleted") == false(),
            postgresql_where=column("deleted") == false(),
        ),
    )

    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    schema_id: Mapped[int] = mapped_column(ForeignKey(RegistrySchema.id), index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RegistryConfig(RegistryBase):
    """Compatibility level per subject, and the global one under `GLOBAL_SCOPE`."""

    __tablename__ = "registry_config"

    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    compatibility: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)


def create_tables(engine: Engine) -> None:
    """Create the registry's tables if missing (tests and the standalone app; the catalog uses migrations)."""
    RegistryBase.metadata.create_all(engine)
