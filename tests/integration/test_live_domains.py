"""Issue 18's promise: the catalog owns the domains. A domain added with `deid domains add` while the catalog
and Kafka run is usable at once, with no restart, by producers, inference (`deid infer`), `deid policy
import/publish` and a new worker; the change is audited as the user who made it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from catalog.client import BadRequest, CatalogClient, Forbidden
from catalog.domain_api import CatalogDomains
from deid.domains import DomainError, FallbackDomains, load_registry
from deid.policy import Policy
from tests.catalog_support import CatalogServer, start_catalog
from tests.conftest import REPO, Broker, run_deid
from tests.integration.pipeline_support import read_topic

pytestmark = pytest.mark.kafka

JARS = REPO / ".deid" / "spark-jars"
EVENTS = 60
DEFINITION = {
    "description": "support tickets (added at run time)",
    "subject_field": "user_id",
    "fields": {
        "user_id": {"type": "string"},
        "email": {"type": "string"},
        "priority": {"type": "string"},
        "minutes": {"type": "int"},
    },
}


def _events(path: Path) -> list[dict[str, object]]:
    events = [
        {
            "user_id": f"user-{10_000 + i:05d}",
            "email": f"person{i}@example.org",
            "priority": ["low", "normal", "high"][i % 3],
            "minutes": 5 + i % 40,
        }
        for i in range(EVENTS)
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def test_a_domain_added_while_everything_runs_is_usable_at_once(kafka: Broker, tmp_path: Path) -> None:
    catalog = start_catalog(tmp_path / "catalog")  # started with the seed only, and never restarted below
    try:
        name = f"tickets_{uuid.uuid4().hex[:6]}"
        env = kafka.env(
            **catalog.env("steward"),
            DEID_DATA_DIR=str(tmp_path / "data"),
            DEID_MASTER_KEY=Fernet.generate_key().decode(),
            DEID_SPARK_JARS_DIR=str(JARS),
        )

        def deid(*args: str, timeout: float = 120) -> str:
            run = run_deid(*args, env=env, timeout=timeout)
            assert run.returncode == 0, f"deid {' '.join(args)}: {run.stderr[-2000:]}"
            return run.stdout

        unknown = run_deid("policy", "show", name, env=env)
        assert unknown.returncode == 2 and f"unknown domain {name!r}" in unknown.stderr

        definition = tmp_path / "tickets.yaml"
        definition.write_text(yaml.safe_dump(DEFINITION))
        assert f"{name}: created" in deid("domains", "add", name, str(definition))
        assert f"{name}: unchanged" in deid("domains", "add", name, str(definition))  # idempotent upsert
        steward, _ = catalog.credentials("steward")
        entry = catalog.client("viewer").get_domain(name)
        assert entry is not None and entry["created_by"] == entry["updated_by"] == steward
        stored = entry["definition"]
        assert stored["subject_field"] == "user_id" and stored["fields"]["minutes"]["type"] == "int"
        topics = {"raw": f"{name}-raw-data", "anonymised": f"{name}-anonymised-data", "dlq": f"{name}-dlq"}
        assert entry["topics"] == topics
        audit = catalog.client("admin").audit_feed(typeName="deid_domain", user=steward)
        assert [e["action"] for e in audit["events"]] == ["ENTITY_CREATE"]
        listed = deid("domains", "list")
        assert name in listed and steward in listed

        deid("topics", "create", "-d", name)
        events = _events(tmp_path / "tickets.jsonl")
        deid("produce", name, "--from-file", str(tmp_path / "tickets.jsonl"))

        inferred = deid("infer", name, "--master", "local[1]", "--sample", "50", timeout=300)
        assert "email" in inferred
        draft = catalog.client("steward").get_policy_draft(name)
        assert draft is not None and draft["policy"]["rules"]["email"]["treatment"] == "mask"

        policy = tmp_path / "policy.yaml"
        policy.write_text(
            yaml.safe_dump(
                {
                    "domain": name,
                    "rules": {
                        "user_id": {"treatment": "encrypt"},
                        "email": {"treatment": "mask"},
                        "priority": {"treatment": "keep"},
                        "minutes": {"treatment": "generalize", "params": {"kind": "number_bucket", "size": 10}},
                    },
                }
            )
        )
        deid("policy", "import", name, str(policy))
        assert "v1" in deid("policy", "publish", name)

        summary = deid("pipeline", "run", name, "--until-caught-up", timeout=180)
        assert f"{name}: {EVENTS} in, {EVENTS} out, 0 to DLQ" in summary
        out = read_topic(kafka.settings, f"{name}-anonymised-data")
        assert len(out) == EVENTS
        raw_values = {e["email"] for e in events} | {e["user_id"] for e in events}
        assert not any(value.encode() in (m.value() or b"") for m in out for value in raw_values)
    finally:
        catalog.stop()


def test_the_domain_api_validates_audits_and_the_client_cache_refreshes_on_an_unknown_name(
    catalog: CatalogServer,
) -> None:
    steward, viewer = catalog.client("steward"), catalog.client("viewer")
    name = f"notes_{uuid.uuid4().hex[:6]}"
    domains = CatalogDomains(viewer, ttl=3600)  # a long-lived reader: known names never ask again
    assert domains.get("channel").subject_field == "user_id"  # the seed, imported at the catalog's first start
    with pytest.raises(DomainError, match=f"unknown domain {name!r}"):
        domains.get(name)

    with pytest.raises(Forbidden):
        viewer.put_domain(name, DEFINITION)
    with pytest.raises(BadRequest, match=r"key 'fields.minutes.type'"):
        steward.put_domain(name, {**DEFINITION, "fields": {**DEFINITION["fields"], "minutes": {"type": "integer"}}})
    with pytest.raises(BadRequest, match=r"subject_field 'nobody' is not one of the domain's fields"):
        steward.put_domain(name, {**DEFINITION, "subject_field": "nobody"})

    created = steward.put_domain(name, DEFINITION)
    assert (created["created"], created["changed"]) == (True, True)
    assert domains.get(name).fields["email"].type == "string"  # unknown → refreshed once → found, no restart
    changed = steward.put_domain(name, {**DEFINITION, "description": "changed"})
    assert (changed["created"], changed["changed"]) == (False, True)
    events = catalog.client("admin").audit_feed(typeName="deid_domain", entityGuid=created["guid"])["events"]
    assert [e["action"] for e in events] == ["ENTITY_CREATE", "ENTITY_UPDATE"]
    before, after = (json.loads(events[1][k]["attributes"]["definition"]) for k in ("before", "after"))
    assert (before["description"], after["description"]) == (DEFINITION["description"], "changed")

    seed = load_registry()
    both = FallbackDomains(domains, seed)
    assert both.get(name).description == DEFINITION["description"]  # the cache: known names are not re-read
    assert name in both.registry().names and set(seed.names) <= set(both.registry().names)
    down = FallbackDomains(CatalogDomains(CatalogClient("http://127.0.0.1:9", "x", "y", retries=0)), seed)
    assert down.get("movie") == seed.get("movie")  # producers: the seed when the catalog cannot be reached
    with pytest.raises(DomainError, match=r"unknown domain 'nope'; known domains: channel"):
        down.get("nope")


def test_publishing_links_the_domain_to_its_purpose_topics(catalog: CatalogServer) -> None:
    steward = catalog.client("steward")
    policy = Policy.from_yaml((REPO / "pipelines" / "policies" / "clickstream.yaml").read_text())
    steward.put_policy_draft("clickstream", policy.to_document())
    steward.publish_policy("clickstream")
    entry = steward.get_domain("clickstream")
    assert entry is not None and entry["purpose_topics"] == ["clickstream-recommender-data"]
    topic = steward.find_entity("kafka_topic", f"clickstream-recommender-data@{catalog.settings.cluster}")
    assert topic is not None
