"""Large bulk writes in chunked commits, so one big request does not hold the write lock for its whole
duration (SQLite has a single writer; on PostgreSQL the rows it locks stay locked until commit).

A request of up to `CHUNK_ENTITIES` entities is one transaction, as in Atlas. A larger one is split
into groups that must stay together — entities tied by placeholder guids (`"-12"`), by a reference to
another entity of the request through its qualifiedName, or twins of one qualifiedName — and the
groups are packed, in request order, into transactions of about `CHUNK_ENTITIES` entities. Between
chunks other writers get their turn. If a chunk fails, the chunks before it stay committed; the error
says so, and sending the whole request again is safe, since writes are upserts by qualifiedName.

Python's cyclic garbage collector is paused while a large write builds its objects: with hundreds of
thousands of live objects its full passes made bulk writes grow faster than linearly.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.entities import EntityWriter, MutationResult
from catalog.server.errors import AtlasError
from catalog.server.models import AtlasEntity
from catalog.server.views import EntityReader, is_placeholder
from catalog.store.db import Store

CHUNK_ENTITIES = 5_000
GC_PAUSE_FROM = 1_000

_gc_lock = threading.Lock()
_gc_pausers = 0


@contextmanager
def paused_gc(size: int) -> Iterator[None]:
    """Pause the cyclic collector while a write of `size` entities runs (shared by concurrent writes)."""
    global _gc_pausers
    if size < GC_PAUSE_FROM:
        yield
        return
    with _gc_lock:
        _gc_pausers += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.enable()


def flatten(entities: list[AtlasEntity], referred: dict[str, AtlasEntity] | None) -> list[AtlasEntity]:
    """The entities and referred entities as one list (a referred entity without guid takes its key)."""
    flat = list(entities)
    for key, entity in (referred or {}).items():
        flat.append(entity if entity.guid is not None else entity.model_copy(update={"guid": key}))
    return flat


def _references(value: Any) -> Iterator[dict[str, Any]]:
    """Object ids inside an attribute value (an object id, a guid string, or lists of them)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict) and ("guid" in value or "uniqueAttributes" in value):
        yield value
    elif isinstance(value, str) and is_placeholder(value):
        yield {"guid": value}


class _Groups:
    """Union-find over entity positions."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def chunks(flat: list[AtlasEntity], size: int | None = None) -> list[list[AtlasEntity]]:
    """Groups of entities that must be written together, packed in request order into chunks."""
    size = size or CHUNK_ENTITIES
    if len(flat) <= size:
        return [flat]
    groups = _Groups(len(flat))
    by_guid: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for i, entity in enumerate(flat):
        if entity.guid:
            by_guid.setdefault(entity.guid, i)
            groups.union(i, by_guid[entity.guid])
        name = (entity.attributes or {}).get("qualifiedName")
        if name is not None:
            by_name.setdefault(str(name), i)
            groups.union(i, by_name[str(name)])
    for i, entity in enumerate(flat):
        values: Iterable[Any] = [*(entity.attributes or {}).values(), *(entity.relationshipAttributes or {}).values()]
        for value in values:
            for ref in _references(value):
                guid = ref.get("guid")
                if isinstance(guid, str) and guid in by_guid:
                    groups.union(i, by_guid[guid])
                unique = ref.get("uniqueAttributes")
                if isinstance(unique, dict) and str(unique.get("qualifiedName")) in by_name:
                    groups.union(i, by_name[str(unique["qualifiedName"])])
    members: dict[int, list[int]] = {}
    for i in range(len(flat)):
        members.setdefault(groups.find(i), []).append(i)
    packed: list[list[AtlasEntity]] = [[]]
    for root in sorted(members):
        if packed[-1] and len(packed[-1]) + len(members[root]) > size:
            packed.append([])
        packed[-1].extend(flat[i] for i in members[root])
    return packed


def _merge(into: MutationResult, part: MutationResult) -> None:
    into.created.extend(part.created)
    into.updated.extend(part.updated)
    into.partially_updated.extend(part.partially_updated)
    into.guid_assignments.update(part.guid_assignments)
    into.records.update(part.records)


def bulk_upsert(
    store: Store,
    registry_of: Callable[[Session], Any],
    user: str,
    flat: list[AtlasEntity],
    *,
    replace_classifications: bool = False,
) -> dict[str, Any]:
    """Upsert `flat` (see `flatten`) in one transaction or, when large, in chunked commits."""
    result = MutationResult()
    parts = chunks(flat)
    with paused_gc(len(flat)):
        for index, part in enumerate(parts):

            def run(session: Session, part: list[AtlasEntity] = part) -> MutationResult:
                writer = EntityWriter(session, registry_of(session), user)
                return writer.upsert(part, replace_classifications=replace_classifications)

            try:
                _merge(result, store.write(run))
            except AtlasError as exc:
                if index:
                    done = sum(len(p) for p in parts[:index])
                    exc.add_note_to_message(
                        f"(the first {done} of {len(flat)} entities were committed in earlier chunks; sending the "
                        "whole request again is safe, writes are upserts)"
                    )
                raise
        with store.read() as session, session.no_autoflush:
            return result.render(EntityReader(session, registry_of(session)))
