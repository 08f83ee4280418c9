"""The catalog's first schema: typedefs, entities, relationships, classifications, audit, users.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "typedefs",
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("category", sa.String(32), nullable=False, index=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "entities",
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("type_name", sa.String(255), nullable=False, index=True),
        sa.Column("qualified_name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("type_name", "qualified_name", name="uq_entities_type_qualified_name"),
    )
    op.create_table(
        "relationships",
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("end1_guid", sa.String(36), sa.ForeignKey("entities.guid"), nullable=False),
        sa.Column("end2_guid", sa.String(36), sa.ForeignKey("entities.guid"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("type_name", "end1_guid", "end2_guid", name="uq_relationships_type_ends"),
    )
    op.create_index("ix_relationships_end1", "relationships", ["end1_guid", "type_name"])
    op.create_index("ix_relationships_end2", "relationships", ["end2_guid", "type_name"])
    op.create_table(
        "classifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity_guid", sa.String(36), sa.ForeignKey("entities.guid"), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False, index=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("propagate", sa.Boolean(), nullable=False),
        sa.Column("remove_propagations", sa.Boolean(), nullable=False),
        sa.Column("validity_periods", sa.Text(), nullable=False),
        sa.UniqueConstraint("entity_guid", "type_name", name="uq_classifications_entity_type"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False, index=True),
        sa.Column("user_name", sa.String(128), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("entity_guid", sa.String(36), nullable=True, index=True),
        sa.Column("type_name", sa.String(255), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("before_state", sa.Text(), nullable=True),
        sa.Column("after_state", sa.Text(), nullable=True),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("password_hash", sa.String(512), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("users", "audit_events", "classifications", "relationships", "entities", "typedefs", "catalog_meta"):
        op.drop_table(table)
