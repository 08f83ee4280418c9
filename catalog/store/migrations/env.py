"""Alembic environment: runs on the connection `catalog.store.migrate` hands over (online only)."""

from __future__ import annotations

from alembic import context

from catalog.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run catalog migrations with `deid catalog init` (catalog.store.migrate.upgrade)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
