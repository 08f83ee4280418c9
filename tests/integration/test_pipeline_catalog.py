"""The worker bound to a real catalog: it refuses to start before a policy is published, runs the
latest published version, switches live when a steward publishes the next, and records its lineage
(`deid_pipeline`: raw topic → anonymised topic, policy version, state)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deid.events import EVENT_ID_HEADER
from tests.catalog_support import CatalogServer, start_catalog
from tests.conftest import Broker
from tests.integration.pipeline_support import PipelineEnv, avro_decoder, headers_of, pipeline_env, read_topic
from tests.integration.test_pipeline_faults import _wait_for

pytestmark = pytest.mark.kafka



@pytest.fixture
def bound(kafka: Broker, tmp_path: Path, registry_url: str) -> Iterator[tuple[PipelineEnv, CatalogServer]]:
    """A private copy of the channel domain and a catalog that knows it."""
    env = pipeline_env(kafka, "channel", tmp_path, registry_url)
    catalog = start_catalog(tmp_path / "catalog", domains={env.name: env.definition})
    env.catalog_env = catalog.env("steward")
    try:
        yield env, catalog
    finally:
        catalog.stop()


def test_worker_runs_the_catalogs_published_policy_and_records_lineage(
    bound: tuple[PipelineEnv, CatalogServer],
) -> None:
    env, catalog = bound
    steward = catalog.client("steward")
    refused = env.run("--until-caught-up")
    assert refused.returncode == 2
    assert f"domain {env.name!r} has no published policy in the catalog at {catalog.url}" in refused.stderr

    first = env.produce(30, seed=1)
    worker = env.start("--policy-poll", "0.3", "--wait-for-policy")  # a service started before any policy
    try:
        time.sleep(1)
        assert worker.poll() is None
        document = yaml.safe_load(env.policy_file().read_text())
        steward.put_policy_draft(env.name, document)
        assert steward.publish_policy(env.name)["version"] == 1
        decode = avro_decoder(env.registry_url)
        _wait_for(lambda: len(read_topic(env.settings, env.domain.anonymised_topic)) == 30, "v1 output")

        steward.set_policy_rule(env.name, "tv_show", {"treatment": "redact"})
        assert steward.publish_policy(env.name)["version"] == 2
        pipeline = f"deid-pipeline-{env.name}@{catalog.settings.cluster}"
        _wait_for(
            lambda: (
                (found := steward.find_entity("deid_pipeline", pipeline)) and found["attributes"]["policyVersion"] == 2
            ),
            "lineage of policy v2",
        )
        second = env.produce(20, seed=2)
        out = _wait_for(lambda: len(m := read_topic(env.settings, env.domain.anonymised_topic)) == 50 and m, "v2")
        assert worker.poll() is None  # switched without a restart
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=60)
        assert f"{env.name}: 50 in, 50 out, 0 to DLQ" in stdout
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, stderr
    by_id = {headers_of(m)[EVENT_ID_HEADER]: (headers_of(m)["policy_version"], decode(m.value())) for m in out}
    assert all(by_id[e][0] == "1" and by_id[e][1]["tv_show"] != "REDACTED_CONTENT" for e in first)
    assert all(by_id[e][0] == "2" and by_id[e][1]["tv_show"] == "REDACTED_CONTENT" for e in second)

    entity = steward.find_entity("deid_pipeline", pipeline)
    assert entity is not None
    attributes = entity["attributes"]
    assert attributes["policyVersion"] == 2 and attributes["state"] == "stopped"
    assert attributes["deliveryMode"] == "at-least-once"
    lineage = steward.get_lineage(entity["guid"])
    names = {e["attributes"]["qualifiedName"] for e in lineage["guidEntityMap"].values()}
    cluster = catalog.settings.cluster
    assert {f"{env.domain.raw_topic}@{cluster}", pipeline, f"{env.domain.anonymised_topic}@{cluster}"} <= names
