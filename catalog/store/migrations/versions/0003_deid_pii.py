"""deid's PII supertype becomes `deid_PII`, so a user's own `PII` classification (Atlas's samples
define one) no longer collides with it: the typedef, the superTypes of its subtypes (Presidio entities
and custom recognizers' entities) and any classification stored under the old name.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD, NEW = "PII", "deid_PII"  # literal: a migration must not follow later changes of deid.tags
_GENERATION = "typedefs_generation"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT guid, name, definition FROM typedefs")).fetchall()
    names = {row.name for row in rows}
    if OLD not in names or NEW in names:
        return  # a fresh catalog (bootstrap creates deid_PII), or already renamed
    for row in rows:
        definition = json.loads(row.definition)
        changed = False
        if row.name == OLD:
            definition["name"] = NEW
            changed = True
        supers = definition.get("superTypes") or []
        if OLD in supers:
            definition["superTypes"] = [NEW if s == OLD else s for s in supers]
            changed = True
        if changed:
            bind.execute(
                sa.text("UPDATE typedefs SET name = :name, definition = :definition WHERE guid = :guid"),
                {"name": NEW if row.name == OLD else row.name, "definition": json.dumps(definition), "guid": row.guid},
            )
    bind.execute(
        sa.text("UPDATE classifications SET type_name = :new WHERE type_name = :old"), {"new": NEW, "old": OLD}
    )
    generation = bind.execute(sa.text("SELECT value FROM catalog_meta WHERE key = :k"), {"k": _GENERATION}).scalar()
    if generation is not None:
        bind.execute(
            sa.text("UPDATE catalog_meta SET value = :v WHERE key = :k"),
            {"v": str(int(generation) + 1), "k": _GENERATION},
        )


def downgrade() -> None:
    raise NotImplementedError("deid_PII is not renamed back")
