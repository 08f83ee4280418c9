"""Right to erasure end to end: a real broker, the worker (`deid pipeline run --until-caught-up`) with a
per-subject encrypt policy, `deid subject erase` audited in a real catalog, `deid reidentify` showing the
erased subject as erased and everyone else in clear; the subject's later events get a fresh, readable key."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.catalog_support import CatalogServer
from tests.conftest import Broker, run_deid
from tests.integration.pipeline_support import PipelineEnv, pipeline_env

pytestmark = pytest.mark.kafka
EVENTS = 60
ERASED = {"$erased": True}



def per_subject_user_id(document: dict[str, Any]) -> None:
    document["rules"]["user_id"] = {"treatment": "encrypt", "params": {"key_scope": "subject"}}


def reidentified(env: PipelineEnv, count: int) -> dict[str, Any]:
    """Event id → the re-identified user_id of every anonymised record."""
    result = run_deid(
        "reidentify", env.name, "--from-beginning", "--max", str(count), "--timeout", "20", "--with-meta",
        env=env.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(items) == count
    return {item["event_id"]: item["value"]["user_id"] for item in items}


def test_erased_subject_reads_as_erased_and_only_that_subject(
    kafka: Broker, catalog: CatalogServer, tmp_path: Path, registry_url: str
) -> None:
    env = pipeline_env(kafka, "channel", tmp_path, registry_url, catalog=catalog)  # reidentify: steward, audited
    policy = env.policy_file(edit=per_subject_user_id)
    env.produce(EVENTS, seed=5)
    first = env.run("--policy-file", str(policy), "--until-caught-up")
    assert first.returncode == 0, first.stderr
    victim, _ = Counter(raw["user_id"] for raw in env.raw_values.values()).most_common(1)[0]
    assert len({raw["user_id"] for raw in env.raw_values.values()}) >= 3

    user = catalog.credentials("steward")[0]
    catalog_env = env.env()
    start = catalog.client("admin").audit_feed(since=0, limit=10000)["next"]
    erased = run_deid(
        "subject", "erase", victim, "--domain", env.name, "--reason", "Art. 17 request R-7", env=catalog_env
    )
    assert erased.returncode == 0, erased.stderr
    assert f"erased 1 key(s) of the subject in 1 domain(s) ({env.name})" in erased.stdout

    restored = reidentified(env, EVENTS)
    assert set(restored) == set(env.raw_values)
    for event_id, user_id in restored.items():
        raw = env.raw_values[event_id]["user_id"]
        assert user_id == (ERASED if raw == victim else raw)
    [event] = catalog.client("admin").audit_feed(since=start, action="SUBJECT_ERASE")["events"]
    assert event["user"] == user and event["details"]["domains"] == [env.name]
    assert event["details"]["reason"] == "Art. 17 request R-7" and victim not in json.dumps(event)

    # The subject comes back: its new events get a fresh key, readable; the erased ones stay erased.
    again = {**next(raw for raw in env.raw_values.values() if raw["user_id"] == victim), "channel_name": "later"}
    [new_id] = env.produce_raw([json.dumps(again).encode()], prefix="after-erasure")
    second = env.run("--policy-file", str(policy), "--until-caught-up")
    assert second.returncode == 0, second.stderr
    restored = reidentified(env, EVENTS + 1)
    assert restored[new_id] == victim
    assert [restored[e] for e, raw in env.raw_values.items() if raw["user_id"] == victim] == [ERASED] * Counter(
        raw["user_id"] for raw in env.raw_values.values()
    )[victim]
