"""Atlas's export and import (ExportService / ImportService) as zip files in Atlas's layout:

    atlas-export-info.json   AtlasExportResult: request, user, time, metrics, operationStatus
    atlas-export-order.json  the entity guids in the order to import them
    atlas-typesdef.json      AtlasTypesDef: every type the exported entities need (with supertypes)
    <guid>.json              AtlasEntityWithExtInfo per entity

Export starts from `itemsToExport` (object ids: guid, or typeName + uniqueAttributes) and follows
relationships: `fetchType` "full" (the default) takes everything reachable, "connected" the direct
neighbours only. Import creates the typedefs the catalog lacks and upserts the entities by
qualifiedName (guids are kept where the catalog already has them), in chunked commits like a bulk write.
"""

from __future__ import annotations

import io
import json
import socket
import time
import zipfile
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.bulk import bulk_upsert
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasEntity, AtlasTypesDef
from catalog.server.typedefs import TypeDefService, render_types_def
from catalog.server.typesystem import PRIMITIVES, TypeRegistry
from catalog.server.views import EntityReader
from catalog.store.db import Store
from catalog.store.repository import EntityRecord

INFO, ORDER, TYPES = "atlas-export-info.json", "atlas-export-order.json", "atlas-typesdef.json"
MAX_EXPORT_ENTITIES = 200_000
MAX_ZIP_ENTRIES = MAX_EXPORT_ENTITIES + 3
_TYPE_TOKENS = ("array<", "map<", ">", ",")


def _locate(reader: EntityReader, item: dict[str, Any]) -> EntityRecord:
    guid = item.get("guid")
    if isinstance(guid, str) and guid:
        record = reader.require(guid)
    else:
        type_name, unique = item.get("typeName"), item.get("uniqueAttributes")
        if not isinstance(type_name, str) or not isinstance(unique, dict) or not unique:
            raise AtlasError(Code.INVALID_PARAMETERS, "itemsToExport: give guid, or typeName and uniqueAttributes")
        record = reader.require_unique(type_name, {k: str(v) for k, v in unique.items()})
    if record.row.status != "ACTIVE":
        raise AtlasError(Code.INSTANCE_GUID_NOT_FOUND, record.guid)
    return record


def _collect(reader: EntityReader, starts: list[EntityRecord], fetch_type: str) -> list[EntityRecord]:
    """The start entities and, following edges breadth first, what `fetch_type` asks for."""
    order = {r.guid: r for r in starts}
    frontier = list(order)
    hops = 1 if fetch_type == "connected" else MAX_EXPORT_ENTITIES
    while frontier and hops > 0:
        hops -= 1
        neighbours: set[str] = set()
        for start in range(0, len(frontier), 500):
            for edge in reader.relationships.touching(frontier[start : start + 500]):
                neighbours.update((edge.end1_guid, edge.end2_guid))
        fresh = [g for g in sorted(neighbours) if g not in order]
        records = reader.entities.get_many(fresh)
        frontier = [g for g in fresh if g in records and records[g].row.status == "ACTIVE"]
        order.update({g: records[g] for g in frontier})
        if len(order) > MAX_EXPORT_ENTITIES:
            raise AtlasError(Code.INVALID_PARAMETERS, f"an export holds at most {MAX_EXPORT_ENTITIES} entities")
    return list(order.values())


def _needed_types(registry: TypeRegistry, names: set[str]) -> set[str]:
    """`names` with their supertypes, the types of their attributes and the relationships among them."""
    needed: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in needed or name in PRIMITIVES or registry.get(name) is None:
            continue
        needed.add(name)
        definition = registry.get(name) or {}
        pending.extend(definition.get("superTypes") or [])
        for attribute in definition.get("attributeDefs") or []:
            text = attribute["typeName"]
            for token in _TYPE_TOKENS:
                text = text.replace(token, " ")
            pending.extend(text.split())
    for name, definition in registry.definitions.items():
        if (
            definition["category"] == "RELATIONSHIP"
            and {
                definition["endDef1"]["type"],
                definition["endDef2"]["type"],
            }
            & needed
        ):
            ends = {definition["endDef1"]["type"], definition["endDef2"]["type"]}
            if all(any(registry.is_a(n, end) for n in needed) for end in ends):
                needed.add(name)
    return needed


def export_zip(session: Session, registry: TypeRegistry, infos: dict[str, Any], request: dict[str, Any],
               user: str, address: str) -> bytes:  # fmt: skip
    items = request.get("itemsToExport")
    if not isinstance(items, list) or not items:
        raise AtlasError(Code.INVALID_PARAMETERS, "itemsToExport: give at least one object id")
    options = request.get("options") or {}
    fetch_type = str(options.get("fetchType") or "full").lower()
    if fetch_type not in ("full", "connected"):
        raise AtlasError(Code.INVALID_PARAMETERS, f"fetchType {fetch_type!r}: this catalog exports full or connected")
    reader = EntityReader(session, registry)
    records = _collect(reader, [_locate(reader, item) for item in items if isinstance(item, dict)], fetch_type)
    rendered = [entity for entity, _ in reader.render(records)]
    names = {e["typeName"] for e in rendered} | {c["typeName"] for e in rendered for c in e["classifications"]}
    types = render_types_def([infos[n] for n in sorted(_needed_types(registry, names))], registry)
    metrics: dict[str, int] = {}
    for entity in rendered:
        key = f"entity:{entity['typeName']}"
        metrics[key] = metrics.get(key, 0) + 1
    info = {
        "request": request, "userName": user, "clientIpAddress": address, "hostName": socket.gethostname(),
        "timeStamp": int(time.time() * 1000), "metrics": metrics, "operationStatus": "SUCCESS",
    }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(INFO, json.dumps(info))
        archive.writestr(ORDER, json.dumps([e["guid"] for e in rendered]))
        archive.writestr(TYPES, json.dumps(types))
        for entity in rendered:
            archive.writestr(f"{entity['guid']}.json", json.dumps({"entity": entity, "referredEntities": {}}))
    return buffer.getvalue()


def _read_zip(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise AtlasError(Code.BAD_REQUEST, "the import is not a zip file (give Atlas's export zip as 'data')") from None
    with archive:
        names = set(archive.namelist())
        if len(names) > MAX_ZIP_ENTRIES or ORDER not in names:
            raise AtlasError(Code.BAD_REQUEST, f"the zip is not an Atlas export: {ORDER} is missing")
        try:
            order = json.loads(archive.read(ORDER))
            types = json.loads(archive.read(TYPES)) if TYPES in names else {}
            entities = []
            for guid in order:
                if f"{guid}.json" not in names:
                    raise AtlasError(Code.BAD_REQUEST, f"the export lists entity {guid} but holds no {guid}.json")
                entities.append(json.loads(archive.read(f"{guid}.json"))["entity"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AtlasError(Code.BAD_REQUEST, f"the export zip holds malformed JSON ({type(exc).__name__})") from None
    return types, entities


def _rewrite(value: Any, guid_map: dict[str, str]) -> Any:
    """Object ids pointing into the export → its placeholders; others keep guid (kept) or unique attributes."""
    if isinstance(value, list):
        return [_rewrite(v, guid_map) for v in value]
    if isinstance(value, dict) and "guid" in value and "typeName" in value:
        guid = value.get("guid")
        if guid in guid_map:
            return {"guid": guid_map[guid]}
        return {"typeName": value["typeName"], "uniqueAttributes": value.get("uniqueAttributes") or {}}
    return value


def import_zip(
    store: Store, registry_of: Callable[[Session], TypeRegistry], typedefs: TypeDefService, data: bytes, user: str
) -> dict[str, Any]:
    types, entities = _read_zip(data)
    with store.read() as session:
        existing = set(registry_of(session).definitions)
    missing = {key: [d for d in value if d.get("name") not in existing]
               for key, value in types.items() if isinstance(value, list)}  # fmt: skip
    created_types = typedefs.create(AtlasTypesDef.model_validate(missing), user) if any(missing.values()) else {}
    guid_map = {e["guid"]: f"-{i + 1}" for i, e in enumerate(entities) if isinstance(e.get("guid"), str)}
    flat = []
    for entity in entities:
        flat.append(AtlasEntity.model_validate({
            "typeName": entity["typeName"], "guid": guid_map.get(entity.get("guid")),
            "attributes": {k: _rewrite(v, guid_map) for k, v in (entity.get("attributes") or {}).items()},
            "relationshipAttributes": {k: _rewrite(v, guid_map)
                                       for k, v in (entity.get("relationshipAttributes") or {}).items()},
            "classifications": [{"typeName": c["typeName"], "attributes": c.get("attributes") or {}}
                                for c in entity.get("classifications") or []],
        }))  # fmt: skip
    result = bulk_upsert(store, registry_of, user, flat) if flat else {"mutatedEntities": {}, "guidAssignments": {}}
    mutated = result["mutatedEntities"]
    processed = [h["guid"] for key in ("CREATE", "UPDATE") for h in mutated.get(key, [])]
    type_count = sum(len(v) for v in created_types.values())
    return {
        "userName": user, "hostName": socket.gethostname(), "timeStamp": int(time.time() * 1000),
        "metrics": {"entity:created": len(mutated.get("CREATE", [])), "entity:updated": len(mutated.get("UPDATE", [])),
                    "typedef:created": type_count},
        "processedEntities": processed, "operationStatus": "SUCCESS",
    }  # fmt: skip
