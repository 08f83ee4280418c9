"""A registry-only app for the registry's own tests: the real router and store, no catalog, no auth.

Not for deployment: the catalog serves the registry (`mount_registry`) behind its Basic auth.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import create_engine

from catalog.registry.router import SchemaRegisteredHook, mount_registry
from catalog.registry.store import SqlRegistryStore
from catalog.registry.tables import create_tables


def _allow_everyone() -> None:
    return None


def create_app(db_url: str, on_schema_registered: SchemaRegisteredHook | None = None) -> FastAPI:
    """The registry under `/registry` on a database at `db_url` (tables created if missing)."""
    engine = create_engine(db_url)
    create_tables(engine)
    app = FastAPI(title="deid schema registry (standalone test app)")
    mount_registry(app, SqlRegistryStore(engine), auth=_allow_everyone, on_schema_registered=on_schema_registered)
    return app
