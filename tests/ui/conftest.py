"""Fixtures of the steward-UI tests: a real catalog server (SQLite) for the package, and the channel
topic "after inference" in it.

`channel_after_inference` publishes what `deid infer channel` publishes (interfaces2 §1) through
CatalogClient: the raw schema registered under `channel-raw-data-value` (mirrored to `avro_schema`),
one `avro_field` per field with its classifications and evidence (masked examples only), and the
suggested draft policy. It is kept self-contained so its body can be swapped for a real inference run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from deid.domains import load_registry
from deid.policy import default_policy
from tests.catalog_support import CatalogServer, start_catalog

CLUSTER = "eu"  # Settings().cluster, the default of the test catalog


@pytest.fixture(scope="package")
def ui_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogServer]:
    server = start_catalog(tmp_path_factory.mktemp("ui-catalog"))
    try:
        yield server
    finally:
        server.stop()


def _evidence(share: float, mean: float, examples: list[str], reason: str, **extra: Any) -> str:
    return json.dumps(
        {
            "sampled": 16,
            "non_null": 16,
            "share": share,
            "mean_score": mean,
            "max_score": min(1.0, mean + 0.1),
            "name_signal": extra.pop("name_signal", None),
            "entity_shares": extra.pop("entity_shares", {}),
            "examples": examples,
            "reason": reason,
            "format": extra.pop("format", None),
            "inferred_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def _suggested(entity: str, confidence: float, evidence: str) -> dict[str, Any]:
    attributes = {"confidence": confidence, "source": "detected", "status": "suggested", "evidence": evidence}
    return {"typeName": entity, "attributes": attributes}


CHANNEL_TAGS: dict[str, dict[str, Any]] = {
    "channel_name": _suggested(  # the wrong suggestion a steward rejects: channel names are not people
        "PERSON",
        0.62,
        _evidence(
            0.62,
            0.71,
            ["Ca******", "Di**** *****"],
            "PERSON in 62% of sampled values (>= 60%)",
            entity_shares={"PERSON": 0.62},
        ),
    ),
    "tv_show": _suggested(
        "NON_PII",
        0.88,
        _evidence(
            0.12,
            0.55,
            ["Ba***", "An** ****"],
            "PERSON in only 12% of values (< 60%), no name signal",
            entity_shares={"PERSON": 0.12},
        ),
    ),
    "tv_show_type": _suggested("NON_PII", 0.97, _evidence(0.0, 0.0, ["Co****", "Dr***"], "no entity found")),
    "date": _suggested(
        "DATE_TIME",
        0.93,
        _evidence(
            1.0,
            0.85,
            ["0*-**-2019"],
            "DATE_TIME in 100% of values; dates of the subject's events",
            entity_shares={"DATE_TIME": 1.0},
            format="%d-%m-%Y",
        ),
    ),
    "user_id": _suggested(
        "USER_ID",
        0.97,
        _evidence(
            1.0,
            0.95,
            ["us**-****12", "us**-****07"],
            "USER_ID in 100% of values and name signal user_id",
            entity_shares={"USER_ID": 1.0},
            name_signal="user_id",
        ),
    ),
}


@pytest.fixture(scope="package")
def channel_after_inference(ui_catalog: CatalogServer) -> dict[str, str]:
    """The channel topic as inference leaves it; returns {field path: avro_field guid}."""
    domain = load_registry().get("channel")
    topic = domain.raw_topic
    user, password = ui_catalog.credentials("steward")
    avro = {
        "type": "record",
        "name": "channel",
        "namespace": "deid.raw",
        "fields": [
            {"name": "channel_name", "type": "string"},
            {"name": "tv_show", "type": "string"},
            {"name": "tv_show_type", "type": "string"},
            {"name": "date", "type": "string", "doc": "date %d-%m-%Y"},
            {"name": "user_id", "type": "string"},
        ],
    }
    registered = requests.post(
        f"{ui_catalog.url}/registry/subjects/{topic}-value/versions",
        json={"schema": json.dumps(avro)},
        auth=(user, password),
        timeout=30,
    )
    assert registered.status_code == 200, registered.text
    version = requests.get(
        f"{ui_catalog.url}/registry/subjects/{topic}-value/versions/latest", auth=(user, password), timeout=30
    ).json()["version"]
    fields = []
    for spec in avro["fields"]:
        attributes = {"qualifiedName": f"{topic}.{spec['name']}@{CLUSTER}", "name": spec["name"]}
        if "doc" in spec:
            attributes["doc"] = spec["doc"]
        fields.append(
            {"typeName": "avro_field", "attributes": attributes, "classifications": [CHANNEL_TAGS[spec["name"]]]}
        )
    schema = {
        "typeName": "avro_schema",
        "attributes": {"qualifiedName": f"{topic}-value.v{version}@{CLUSTER}"},
        "relationshipAttributes": {
            "fields": [
                {"typeName": "avro_field", "uniqueAttributes": {"qualifiedName": f["attributes"]["qualifiedName"]}}
                for f in fields
            ]
        },
    }
    with ui_catalog.client("steward") as client:
        client.upsert_entities([*fields, schema])
        entities = {path: tag["typeName"] for path, tag in CHANNEL_TAGS.items()}
        client.suggest_policy("channel", default_policy(domain, entities))
        guids = {}
        for path in CHANNEL_TAGS:
            found = client.find_entity("avro_field", f"{topic}.{path}@{CLUSTER}")
            assert found is not None
            guids[path] = found["guid"]
    return guids


SCREENSHOTS = Path(__file__).resolve().parents[2] / "bench-results" / "ui"
