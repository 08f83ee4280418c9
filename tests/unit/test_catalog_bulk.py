"""Chunking of large bulk writes: groups tied by placeholder guids, qualifiedName references and twins
stay in one chunk; chunks keep request order and stay near the chunk size."""

from __future__ import annotations

import gc
from typing import Any

from catalog.server.bulk import chunks, flatten, paused_gc
from catalog.server.models import AtlasEntity


def _entity(guid: str, name: str, **relations: Any) -> AtlasEntity:
    return AtlasEntity(typeName="avro_field", guid=guid, attributes={"qualifiedName": name, "name": name},
                       relationshipAttributes=relations or None)  # fmt: skip


def _schema_with_fields(index: int, fields: int) -> list[AtlasEntity]:
    schema = f"-{index * 1000}"
    out = [AtlasEntity(typeName="avro_schema", guid=schema, attributes={"qualifiedName": f"s{index}"})]
    out += [_entity(f"-{index * 1000 + f + 1}", f"s{index}.f{f}", record={"guid": schema}) for f in range(fields)]
    return out


def _chunk_of(parts: list[list[AtlasEntity]]) -> dict[str, int]:
    return {str(e.attributes["qualifiedName"]): i for i, part in enumerate(parts) for e in part}  # type: ignore[index]


def test_small_requests_are_one_chunk() -> None:
    flat = _schema_with_fields(1, 10)
    assert chunks(flat, size=100) == [flat]


def test_linked_groups_stay_together_in_request_order() -> None:
    flat = [e for i in range(10) for e in _schema_with_fields(i, 9)]  # 10 groups of 10
    parts = chunks(flat, size=25)
    where = _chunk_of(parts)
    for i in range(10):
        assert {where[f"s{i}.f{f}"] for f in range(9)} == {where[f"s{i}"]}
    assert [len(p) for p in parts] == [20, 20, 20, 20, 20]
    assert [e for part in parts for e in part] == flat  # order kept


def test_references_by_qualified_name_and_twins_join_groups() -> None:
    flat = [e for i in range(4) for e in _schema_with_fields(i, 4)]
    # s3's first field names s0 by uniqueAttributes; a twin of s1.f0 comes last.
    flat[16] = _entity(
        "-3001", "s3.f0", record={"typeName": "avro_schema", "uniqueAttributes": {"qualifiedName": "s0"}}
    )
    flat.append(_entity("-9", "s1.f0"))
    parts = chunks(flat, size=6)
    where = _chunk_of(parts)
    assert where["s3.f0"] == where["s0"] != where["s3"]
    twins = [i for i, part in enumerate(parts) for e in part if e.attributes["qualifiedName"] == "s1.f0"]  # type: ignore[index]
    assert len(twins) == 2 and len(set(twins)) == 1 and twins[0] == where["s1"]


def test_flatten_gives_referred_entities_their_key() -> None:
    main = _entity("-1", "a")
    referred = {"-2": AtlasEntity(typeName="avro_field", attributes={"qualifiedName": "b"})}
    assert [e.guid for e in flatten([main], referred)] == ["-1", "-2"]


def test_paused_gc_pauses_large_writes_only_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc(10):
        assert gc.isenabled()
    with paused_gc(100_000):
        assert not gc.isenabled()
        with paused_gc(100_000):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer write still runs
    assert gc.isenabled()
