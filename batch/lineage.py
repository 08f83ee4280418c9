"""The region model and a batch run's lineage in the catalog: every configured storage location and the two
Kafka sides as entities with their region and side, and the run as a `deid_pipeline` (a Process) from the raw
location to the anonymised one(s), so the lineage graph shows where data crosses a region boundary."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import Any

from batch.job import BatchReport, Placement, PreparedRun
from catalog.client import CatalogClient, CatalogError
from deid.regions import parse_locations
from deid.settings import Settings

log = logging.getLogger(__name__)
LOCATION_TYPE, CLUSTER_TYPE, PIPELINE_TYPE = "deid_storage_location", "deid_kafka_cluster", "deid_pipeline"


def location_name(uri: str) -> str:
    """The qualifiedName of a location: its URI (a local folder as an absolute file:// URI)."""
    return uri if "://" in uri else Path(uri).resolve().as_uri().rstrip("/") + "/"


def _location(uri: str, name: str, region: str, side: str, endpoint: str | None) -> dict[str, Any]:
    attributes = {"qualifiedName": location_name(uri), "name": name, "uri": uri, "region": region, "side": side}
    if endpoint:
        attributes["endpoint"] = endpoint
    return {"typeName": LOCATION_TYPE, "attributes": attributes}


def region_entities(settings: Settings) -> list[dict[str, Any]]:
    """The configured storage locations and the raw / anonymised Kafka clusters, each with region and side."""
    entities = [
        _location(loc.uri, loc.name, loc.region, loc.side, loc.endpoint)
        for loc in parse_locations(settings.storage_locations)
    ]
    raw = {"qualifiedName": settings.cluster, "name": settings.cluster, "region": settings.region, "side": "raw",
           "bootstrap": settings.kafka_bootstrap}  # fmt: skip
    out = {"qualifiedName": f"{settings.cluster}-anonymised", "name": f"{settings.cluster} (anonymised side)",
           "region": settings.region_out or settings.region, "side": "anonymised",
           "bootstrap": settings.bootstrap_out}  # fmt: skip
    return [*entities, {"typeName": CLUSTER_TYPE, "attributes": raw}, {"typeName": CLUSTER_TYPE, "attributes": out}]


def _placed(place: Placement, uri: str) -> dict[str, Any]:
    name = place.location.name if place.location else uri
    return _location(uri, name, place.region, place.side, place.spec.endpoint)


def _ref(qualified_name: str) -> dict[str, Any]:
    return {"typeName": LOCATION_TYPE, "uniqueAttributes": {"qualifiedName": qualified_name}}


def batch_entities(settings: Settings, run: PreparedRun, report: BatchReport) -> list[dict[str, Any]]:
    source, target = _placed(run.source, run.input_uri), _placed(run.target, run.output_uri)
    pipeline = {
        "typeName": PIPELINE_TYPE,
        "attributes": {
            "qualifiedName": f"deid-batch-{run.domain.name}@{settings.cluster}",
            "name": f"deid batch {run.domain.name}: {run.source.region} → {run.target.region}",
            "domain": run.domain.name,
            "policyVersion": run.policy.version,
            "deliveryMode": "batch",
            "state": f"run {report.run_id}" if report.run_id else "nothing new",
            "startedAt": int(time.time() * 1000),
            "host": socket.gethostname(),
            "inputs": [_ref(source["attributes"]["qualifiedName"])],
            "outputs": [_ref(target["attributes"]["qualifiedName"])],
        },
    }
    unique = {e["attributes"]["qualifiedName"]: e for e in [*region_entities(settings), source, target]}
    return [*unique.values(), pipeline]


def record_batch_lineage(client: CatalogClient, settings: Settings, run: PreparedRun, report: BatchReport) -> None:
    """Upsert the run's lineage; the catalog refusing it is logged, never a failed run (the files are written)."""
    try:
        client.upsert_entities(batch_entities(settings, run, report))
    except CatalogError as exc:
        log.error("lineage of the %s batch run not recorded in the catalog (%s)", run.domain.name, exc)
