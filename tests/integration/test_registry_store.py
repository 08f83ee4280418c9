"""SqlRegistryStore on a real database: concurrent writers from separate store instances (as separate
catalog processes would be) still agree on ids and versions, and the compatibility gate runs in the
registration transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from catalog.registry.avro_schema import AvroSchema
from catalog.registry.store import IncompatibleSchema, SqlRegistryStore
from catalog.registry.tables import create_tables


def schema(name: str) -> AvroSchema:
    return AvroSchema.parse(json.dumps({"type": "record", "name": name, "fields": [{"name": "a", "type": "int"}]}))


def allow(_live: object) -> list[str]:
    return []


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    # The catalog's suite also runs on PostgreSQL; a PostgreSQL URL here exercises the same code.
    yield f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def stores(db_url: str) -> list[SqlRegistryStore]:
    engines = [create_engine(db_url) for _ in range(2)]
    create_tables(engines[0])
    return [SqlRegistryStore(engine) for engine in engines]  # two stores: no shared in-process lock


def test_racing_writers_on_two_stores_agree(stores: list[SqlRegistryStore]) -> None:
    same = schema("Same")
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: stores[n % 2].register("race", same, allow), range(12)))
    assert {r.schema_id for r in results} == {results[0].schema_id}
    assert {r.version for r in results} == {1}
    assert sum(r.created for r in results) == 1

    distinct = [schema(f"Kind{n}") for n in range(10)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: stores[n % 2].register("many", distinct[n], allow), range(10)))
    assert sorted(r.version for r in results) == list(range(1, 11))
    assert len({r.schema_id for r in results}) == 10
    assert [v.version for v in stores[0].versions("many")] == list(range(1, 11))


def test_gate_sees_live_versions_and_can_refuse(stores: list[SqlRegistryStore]) -> None:
    store = stores[0]
    store.register("gated", schema("A"), allow)
    store.register("gated", schema("B"), allow)
    store.soft_delete_version("gated", 1)
    seen: list[list[int]] = []

    def refuse(live: object) -> list[str]:
        seen.append([v.version for v in live])  # type: ignore[attr-defined]
        return ["no"]

    with pytest.raises(IncompatibleSchema) as caught:
        store.register("gated", schema("C"), refuse)
    assert caught.value.messages == ["no"] and seen == [[2]]
    assert [v.version for v in store.versions("gated", deleted=True)] == [1, 2]
    assert store.find("gated", schema("C")) is None  # nothing of the refused registration remains


def test_compatibility_config_rows(stores: list[SqlRegistryStore]) -> None:
    store = stores[0]
    assert store.compatibility(None) is None
    store.set_compatibility(None, "FULL")
    store.set_compatibility("s", "NONE")
    store.set_compatibility("s", "FORWARD")
    assert (stores[1].compatibility(None), stores[1].compatibility("s")) == ("FULL", "FORWARD")
    assert store.delete_compatibility("s") == "FORWARD" and store.compatibility("s") is None
    assert store.delete_compatibility("s") is None
