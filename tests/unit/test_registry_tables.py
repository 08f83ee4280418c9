"""The registry's DDL is portable: it compiles for PostgreSQL as well as SQLite, partial unique index included."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from catalog.registry.tables import RegistryBase


@pytest.mark.parametrize(
    ("dialect", "live_only"), [(sqlite.dialect(), "WHERE deleted = 0"), (postgresql.dialect(), "WHERE deleted = false")]
)
def test_ddl_compiles_for_each_database(dialect: object, live_only: str) -> None:
    tables = {t.name: t for t in RegistryBase.metadata.sorted_tables}
    assert set(tables) == {"registry_schemas", "registry_subject_versions", "registry_config"}
    ddl = [str(CreateTable(t).compile(dialect=dialect)) for t in tables.values()]  # type: ignore[arg-type]
    assert any("UNIQUE (fingerprint)" in d for d in ddl)
    assert any("PRIMARY KEY (subject, version)" in d for d in ddl)
    indexes = [
        str(CreateIndex(i).compile(dialect=dialect))  # type: ignore[arg-type]
        for i in tables["registry_subject_versions"].indexes
    ]
    live_index = next(i for i in indexes if "uq_registry_live_subject_schema" in i)
    assert live_index.startswith("CREATE UNIQUE INDEX") and live_index.endswith(live_only)
