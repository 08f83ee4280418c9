"""The Schema Registry's tables (catalog/registry/tables.py): schemas, subject versions, compatibility.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_schemas",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("schema_type", sa.String(16), nullable=False),
        sa.Column("schema_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registry_schemas"),
        sa.UniqueConstraint("fingerprint", name="uq_registry_schemas_fingerprint"),
    )
    op.create_table(
        "registry_subject_versions",
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", "version", name="pk_registry_subject_versions"),
        sa.ForeignKeyConstraint(
            ["schema_id"], ["registry_schemas.id"], name="fk_registry_subject_versions_schema_id_registry_schemas"
        ),
    )
    op.create_index("ix_registry_subject_versions_schema_id", "registry_subject_versions", ["schema_id"])
    op.create_index(
        "uq_registry_live_subject_schema",
        "registry_subject_versions",
        ["subject", "schema_id"],
        unique=True,
        sqlite_where=sa.text("deleted = 0"),
        postgresql_where=sa.text("deleted = false"),
    )
    op.create_table(
        "registry_config",
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("compatibility", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_registry_config"),
    )


def downgrade() -> None:
    op.drop_table("registry_config")
    op.drop_index("uq_registry_live_subject_schema", "registry_subject_versions")
    op.drop_index("ix_registry_subject_versions_schema_id", "registry_subject_versions")
    op.drop_table("registry_subject_versions")
    op.drop_table("registry_schemas")
