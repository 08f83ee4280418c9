"""The typedefs every catalog starts with, created at first start (and upgraded when a newer
`typeVersion` ships here; upgrades may only add optional attributes).

`atlas_*.json` are Apache Atlas's own models (Apache License 2.0; see
../shared/reference/atlas/ in the workspace): the base types deid uses (Referenceable, Asset,
DataSet, Process and their lineage relationships), the Avro model and `kafka_topic` (with Atlas's
partitionCount patch applied). `deid.json` holds deid's own: the deid_PII classification with one subtype
per Presidio entity, NON_PII, `deid_pipeline` and `deid_policy`; `deid_regions.json` the region model
(`deid_storage_location`, `deid_kafka_cluster`: region and side).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from catalog.server.models import AtlasTypesDef
from catalog.server.typedefs import TypeDefService, definitions_of, normalize_definition
from catalog.server.typesystem import LIST_KEYS

FILES = (
    "atlas_base.json",
    "atlas_avro.json",
    "atlas_kafka.json",
    "atlas_glossary.json",
    "deid.json",
    "deid_regions.json",
)
BOOTSTRAP_USER = "deid-bootstrap"


def bootstrap_definitions() -> list[dict[str, Any]]:
    """Normalised typedef documents from the bundled files, in creation order."""
    docs: list[dict[str, Any]] = []
    for name in FILES:
        raw = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
        payload = AtlasTypesDef.model_validate(raw)
        docs.extend(normalize_definition(category, item) for category, item in definitions_of(payload))
    return docs


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (0,)


def ensure_bootstrap_types(service: TypeDefService) -> list[str]:
    """Create missing bootstrap types, upgrade outdated ones; returns the names touched."""
    docs = bootstrap_definitions()
    created = service.create_missing(docs, BOOTSTRAP_USER)
    with service.store.read() as session:
        stored = service.cache.infos(session)
    outdated = [
        doc
        for doc in docs
        if doc["name"] in stored
        and _version(doc["typeVersion"]) > _version(stored[doc["name"]].definition.get("typeVersion", "1.0"))
    ]
    if outdated:
        payload: dict[str, list[dict[str, Any]]] = {}

        for doc in outdated:
            payload.setdefault(LIST_KEYS[doc["category"]], []).append(doc)
        service.update(AtlasTypesDef.model_validate(payload), BOOTSTRAP_USER)
    return created + [doc["name"] for doc in outdated]
