"""Run the alembic migrations up to head (at every start; a no-op when up to date)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from catalog.store.db import Store

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: serialises migrations of catalog servers starting together on one PostgreSQL.
_PG_LOCK_KEY = 0x6465_6964


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(store: Store) -> None:
    config = alembic_config()
    with store.engine.execution_options(deid_write=True).begin() as connection:
        if store.is_postgresql:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
