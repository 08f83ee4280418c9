"""Alembic migrations of the catalog store; `catalog.store.migrate.upgrade` runs them at startup.

Later parts of the catalog (the Schema Registry API, …) add their tables with a new revision in
`versions/` whose `down_revision` is the current head.
"""
