"""The catalog's tables (SQLAlchemy 2.0 declarative). Changes here need an alembic revision in
`catalog/store/migrations/versions/` (the schema is created by migrations, never by `create_all`).

JSON documents (typedef bodies, attribute maps, audit snapshots) are stored as text so the same
schema works on SQLite and PostgreSQL; the store reads and writes them through `json`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Small key/value facts about the store, e.g. the typedef generation counter."""

    __tablename__ = "catalog_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TypeDefRow(Base):
    __tablename__ = "typedefs"

    guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    definition: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)


class EntityRow(Base):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("type_name", "qualified_name", name="uq_entities_type_qualified_name"),)

    guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    type_name: Mapped[str] = mapped_column(String(255), index=True)
    # Referenceable.qualifiedName: the upsert key. NULL for types without one (NULLs never collide).
    qualified_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    attributes: Mapped[str] = mapped_column(Text)
    labels: Mapped[str] = mapped_column(Text, default="[]")
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)


class RelationshipRow(Base):
    """One edge of a relationshipDef: end1 holds the endDef1 attribute, end2 the endDef2 attribute."""

    __tablename__ = "relationships"
    __table_args__ = (
        # One edge per type and pair of ends; deleting marks it DELETED, re-linking re-activates it.
        UniqueConstraint("type_name", "end1_guid", "end2_guid", name="uq_relationships_type_ends"),
        Index("ix_relationships_end1", "end1_guid", "type_name"),
        Index("ix_relationships_end2", "end2_guid", "type_name"),
    )

    guid: Mapped[str] = mapped_column(String(36), primary_key=True)
    type_name: Mapped[str] = mapped_column(String(255))
    end1_guid: Mapped[str] = mapped_column(String(36), ForeignKey("entities.guid"))
    end2_guid: Mapped[str] = mapped_column(String(36), ForeignKey("entities.guid"))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)


class ClassificationRow(Base):
    __tablename__ = "classifications"
    __table_args__ = (UniqueConstraint("entity_guid", "type_name", name="uq_classifications_entity_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_guid: Mapped[str] = mapped_column(String(36), ForeignKey("entities.guid"), index=True)
    type_name: Mapped[str] = mapped_column(String(255), index=True)
    attributes: Mapped[str] = mapped_column(Text)
    propagate: Mapped[bool] = mapped_column(Boolean, default=False)
    remove_propagations: Mapped[bool] = mapped_column(Boolean, default=True)
    validity_periods: Mapped[str] = mapped_column(Text, default="[]")


class AuditRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    user_name: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_guid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    type_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    before_state: Mapped[str | None] = mapped_column(Text, nullable=True)
    after_state: Mapped[str | None] = mapped_column(Text, nullable=True)


class UserRow(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[int] = mapped_column(BigInteger)
