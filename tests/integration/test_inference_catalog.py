"""Inference end to end: the real producers' events on the session broker, Spark local[2], deid's Presidio
analyzer (offline NER) on the executors, publishing to a real catalog (its Schema Registry included).

Every seed domain runs once under a private name (a module fixture), against a private catalog whose domain
registry knows those names (the policy API validates drafts against it). Idempotence and the steward rule
are then checked on that catalog, and the publishing step again on both stores of the `catalog` fixture.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka.admin import NewTopic
from pydantic import SecretStr

from catalog.client import CatalogClient, criterion
from deid.cli import main
from deid.domains import Domain, load_registry
from deid.kafka import make_admin, make_producer
from deid.settings import Settings
from producers.produce import produce_events, producer_overrides
from producers.registry import generator_class
from producers.sources import generated_events
from schema_inference.classify import FREE_TEXT, NON_PII
from schema_inference.publish import field_qualified_name, publish_to_catalog
from schema_inference.run import RunOutcome, run_inference
from tests.catalog_support import CatalogServer, start_catalog
from tests.conftest import REPO, Broker, run_deid

pytestmark = pytest.mark.kafka

SEEDS = ["channel", "movie", "website", "mobile", "memo", "profile", "clickstream"]
SEED_EVENTS = REPO.parent / "shared" / "fixtures" / "channel_seed_events.jsonl"
JARS = REPO / ".deid" / "spark-jars"
EVENTS = 200
EXPECTED = {
    "channel": {"user_id": {"USER_ID"}, "tv_show": {NON_PII}, "date": {"EVENT_TIME"}, "channel_name": {NON_PII}},
    "movie": {"card_number": {"CREDIT_CARD", "CUSTOM_CREDIT_CARD"}, "movie_name": {NON_PII}, "user_id": {"USER_ID"}},
    "mobile": {"a_party": {"PHONE_NUMBER"}, "b_party": {"PHONE_NUMBER"}, "call_type": {NON_PII}},
    "clickstream": {"email": {"EMAIL_ADDRESS"}, "user_id": {"USER_ID"}},
    "profile": {"ssn_no": {"US_SSN"}, "dob": {"DATE_TIME"}, "gender": {NON_PII}, "evnt_time": {"EVENT_TIME"}},
    "memo": {"text": {FREE_TEXT}},
    "website": {"user_id": {"USER_ID"}, "date": {"EVENT_TIME"}, "domain": {NON_PII}},
}


class Landscape:
    """Private domains on the session broker, a catalog that knows them, and one inference run of each."""

    def __init__(self, kafka: Broker, data_dir: Path) -> None:
        mark = uuid.uuid4().hex[:6]
        registry = load_registry()
        self.domains = {
            seed: Domain(name=f"{seed}_{mark}", **registry.get(seed).model_dump(exclude={"name"})) for seed in SEEDS
        }
        definitions = {d.name: d.model_dump(mode="json", exclude={"name"}) for d in self.domains.values()}
        self.config = data_dir / "deid.yaml"
        self.config.write_text(yaml.safe_dump({"domains": definitions}))
        self.catalog: CatalogServer = start_catalog(data_dir / "catalog", None, domains=definitions)
        self.settings: Settings = kafka.settings.model_copy(
            update={
                "catalog_url": self.catalog.url,
                "catalog_password": SecretStr(self.catalog.admin_password),
                "domains": definitions,
                "spark_jars_dir": JARS,
            }
        )
        self.kafka = kafka
        self.outcomes: dict[str, RunOutcome] = {}

    def env(self, **extra: str) -> dict[str, str]:
        """A `deid` subprocess's environment: this broker, this catalog, these domains."""
        return self.kafka.env(
            DEID_CONFIG=str(self.config),
            DEID_CATALOG_URL=self.catalog.url,
            DEID_CATALOG_PASSWORD=self.catalog.admin_password,
            DEID_SPARK_JARS_DIR=str(JARS),
            **extra,
        )

    def produce(self, seed: str, count: int) -> None:
        domain = self.domains[seed]
        admin = make_admin(self.settings)
        admin.create_topics([NewTopic(domain.raw_topic, 2, 1)])[domain.raw_topic].result(30)
        generator = generator_class(load_registry().get(seed))(domain, 7)
        events = list(generated_events(generator, count, domain.subject_field))
        producer = make_producer(self.settings, **producer_overrides(self.settings))
        assert produce_events(producer, domain.raw_topic, events).delivered == count

    def infer(self, seed: str, spark: Any) -> RunOutcome:
        outcome = run_inference(self.settings, self.domains[seed], spark=spark, sample=100, progress=None)
        self.outcomes[seed] = outcome
        return outcome

    def client(self, role: str = "admin") -> CatalogClient:
        return self.catalog.client(role)


@pytest.fixture(scope="module")
def landscape(kafka: Broker, spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    land = Landscape(kafka, tmp_path_factory.mktemp("inference-catalog"))
    try:
        for seed in SEEDS:
            land.produce(seed, EVENTS)
        # The original demo's 16 events ("Barry" and "Andi Mack" among the shows), replayed as a user would.
        channel = land.domains["channel"]
        replay = run_deid(
            "produce", "channel", "--from-file", str(SEED_EVENTS), "--topic", channel.raw_topic, env=land.env()
        )
        assert replay.returncode == 0, replay.stderr
        for seed in SEEDS:
            land.infer(seed, spark)
        yield land
    finally:
        land.catalog.stop()


def _fields_of(client: CatalogClient, topic: str) -> list[dict[str, Any]]:
    """The avro_field entities of a topic, searched as the catalog holds them (duplicates would show)."""
    return list(
        client.search_all(type_name="avro_field", entity_filters=criterion("qualifiedName", "startsWith", f"{topic}."))
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_domain_gets_its_types_and_entities(landscape: Landscape, seed: str) -> None:
    outcome = landscape.outcomes[seed]
    domain, result = outcome.domain, outcome.result
    expected_events = EVENTS + (16 if seed == "channel" else 0)
    assert (result.events, result.corrupt) == (expected_events, 0)
    assert "offline NER model" in outcome.engine  # recognizers/engine.py chose deid's own model
    for name, spec in domain.fields.items():
        found = result.fields[name]
        if spec.type in ("date", "timestamp"):
            assert (found.kind, found.format) == (spec.type, spec.format), name
        else:
            wanted = {"text": "string", "int": "int", "long": "long", "double": "double"}.get(spec.type, spec.type)
            assert set(found.types) - {"null"} == {wanted}, name
    decisions = result.decisions
    for path, entities in EXPECTED[seed].items():
        assert decisions[path].entity in entities, (path, decisions[path].explanation)
    if seed == "memo":
        text = decisions["text"]
        assert "PERSON" in text.text_entities and len(text.text_entities) >= 3, text.explanation
        assert outcome.policy.rules["text"].treatment == "anonymize_text"  # type: ignore[union-attr]
    if seed == "channel":
        treatments = {p: r.treatment for p, r in outcome.policy.rules.items()}  # type: ignore[union-attr]
        assert treatments == {
            "channel_name": "keep",
            "tv_show": "keep",
            "tv_show_type": "keep",
            "date": "date_shift",
            "user_id": "encrypt",
        }


def test_the_catalog_holds_topic_schema_fields_tags_and_the_draft(landscape: Landscape) -> None:
    channel = landscape.domains["channel"]
    outcome = landscape.outcomes["channel"]
    client = landscape.client("viewer")
    cluster = landscape.settings.cluster
    topic = client.find_entity("kafka_topic", f"{channel.raw_topic}@{cluster}")
    assert topic is not None
    schema = client.find_entity("avro_schema", f"{channel.raw_topic}-value.v{outcome.schema_version}@{cluster}")
    assert (
        schema is not None
        and json.loads(schema["attributes"]["avro_notation"])["name"] == outcome.result.schema["name"]
    )
    assert len(schema["relationshipAttributes"]["fields"]) == len(channel.fields)
    user_id = client.find_entity("avro_field", field_qualified_name(channel.raw_topic, "user_id", cluster))
    assert user_id is not None and user_id["attributes"]["name"] == "user_id"
    tags = {c["typeName"]: c["attributes"] for c in client.get_classifications(user_id["guid"])}
    assert set(tags) == {"USER_ID"}
    assert (tags["USER_ID"]["source"], tags["USER_ID"]["status"]) == ("detected", "suggested")
    assert tags["USER_ID"]["confidence"] >= 0.9
    evidence = json.loads(tags["USER_ID"]["evidence"])
    assert evidence["share"] == 1.0 and evidence["sampled"] > 0 and evidence["entity_shares"]["USER_ID"] == 1.0
    assert evidence["examples"] and all(e.startswith("us") and "*" in e for e in evidence["examples"])
    tv_show = client.find_entity("avro_field", field_qualified_name(channel.raw_topic, "tv_show", cluster))
    assert tv_show is not None
    tv_tags = client.get_classifications(tv_show["guid"])
    assert [c["typeName"] for c in tv_tags] == [NON_PII]
    shown = tv_tags[0]["attributes"]["evidence"]
    assert "Barry" not in shown and "Andi Mack" not in shown and "Mack" not in shown
    draft = client.get_policy_draft(channel.name)
    assert draft is not None and draft["policy"]["rules"]["user_id"]["treatment"] == "encrypt"


def test_a_rerun_duplicates_nothing_keeps_a_steward_rejection_and_drops_stale_suggestions(
    landscape: Landscape, spark: Any
) -> None:
    channel = landscape.domains["channel"]
    cluster = landscape.settings.cluster
    steward = landscape.client("steward")
    before = _fields_of(steward, channel.raw_topic)
    user_id = steward.find_entity("avro_field", field_qualified_name(channel.raw_topic, "user_id", cluster))
    tv_show = steward.find_entity("avro_field", field_qualified_name(channel.raw_topic, "tv_show", cluster))
    assert user_id is not None and tv_show is not None
    rejection = {"typeName": "USER_ID", "attributes": {"source": "steward", "status": "rejected", "note": "test"}}
    steward.update_classifications(user_id["guid"], [rejection])
    stale = {"typeName": "PERSON", "attributes": {"source": "detected", "status": "suggested", "confidence": 0.4}}
    steward.add_classifications(tv_show["guid"], [stale])
    first_evidence = json.loads(steward.get_classification(user_id["guid"], "USER_ID")["attributes"]["evidence"])

    again = landscape.infer("channel", spark)

    after = _fields_of(steward, channel.raw_topic)
    assert sorted(e["guid"] for e in after) == sorted(e["guid"] for e in before)
    assert len(after) == len(channel.fields)
    topics = steward.search_all(type_name="kafka_topic", entity_filters=criterion("name", "=", channel.raw_topic))
    assert len(list(topics)) == 1
    assert again.report is not None and again.report.created == 0
    assert again.report.steward_kept == ["user_id"] and again.report.removed == [("tv_show", "PERSON")]
    kept = steward.get_classification(user_id["guid"], "USER_ID")["attributes"]
    assert (kept["status"], kept["source"], kept["note"]) == ("rejected", "steward", "test")
    assert json.loads(kept["evidence"])["inferred_at"] >= first_evidence["inferred_at"]
    assert [c["typeName"] for c in steward.get_classifications(tv_show["guid"])] == [NON_PII]


def test_publishing_is_idempotent_on_both_stores(landscape: Landscape, catalog: CatalogServer) -> None:
    outcome = landscape.outcomes["mobile"]
    client = catalog.client("steward")
    topic = outcome.result.topic
    # The registry mirror creates the avro_schema; without a registration publishing creates it itself.
    first = publish_to_catalog(client, outcome.result, "eu", 1)
    second = publish_to_catalog(client, outcome.result, "eu", 1)
    assert first.created == len(outcome.result.fields) + 2 and second.created == 0
    fields = _fields_of(client, topic)
    assert len(fields) == len(outcome.result.fields)
    a_party = client.find_entity("avro_field", field_qualified_name(topic, "a_party", "eu"))
    assert a_party is not None
    names = [c["typeName"] for c in client.get_classifications(a_party["guid"])]
    assert names == ["PHONE_NUMBER"]


def test_deid_infer_prints_phases_and_the_summary(landscape: Landscape) -> None:
    website = landscape.domains["website"]
    producer = make_producer(landscape.settings)
    for value in (b"not json at all, Jane Doe +49 151 2345678", b"[1, 2]"):
        producer.produce(website.raw_topic, value)
    assert producer.flush(30) == 0

    run = run_deid("infer", website.name, "--master", "local[1]", "--sample", "100", env=landscape.env(), timeout=300)

    assert run.returncode == 0, run.stderr[-3000:]
    for phase in ("phase 1/3 reading", "phase 2/3 classifying", "phase 3/3 publishing", "offline NER model"):
        assert phase in run.stderr, phase
    assert "2 corrupt record(s)" in run.stderr and "Jane" not in run.stderr + run.stdout
    header = run.stdout.splitlines()[0].split()
    assert header[0] == "field" and {"type", "entity", "confidence", "treatment"} <= set(header)
    row = next(line.split() for line in run.stdout.splitlines() if line.startswith("user_id "))
    assert "USER_ID" in row and "encrypt" in row
    assert "not JSON" in run.stdout and "published to the catalog" in run.stdout
    assert len(_fields_of(landscape.client(), website.raw_topic)) == len(website.fields)


def test_deid_infer_names_an_unknown_domain(landscape: Landscape) -> None:
    run = run_deid("infer", "nope", "--no-publish", env=landscape.env())
    assert run.returncode == 2 and "nope" in run.stderr


# --- policy as code: `deid policy …` in-process against the same catalog, as a steward -----------------


def deid_cli(landscape: Landscape, monkeypatch: pytest.MonkeyPatch, *args: str, role: str = "steward") -> int:
    for name, value in {**landscape.env(), **landscape.catalog.env(role)}.items():
        if name.startswith("DEID_"):
            monkeypatch.setenv(name, value)
    return main(list(args))


def test_policy_show_approve_publish_export_and_import(
    landscape: Landscape, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    movie = landscape.domains["movie"].name
    assert deid_cli(landscape, monkeypatch, "policy", "show", movie) == 0
    table = capsys.readouterr().out
    card = next(line.split() for line in table.splitlines() if line.startswith("card_number "))
    assert card[2] == "suggested" and card[4] == "mask"
    assert deid_cli(landscape, monkeypatch, "policy", "show", movie, "--json", role="viewer") == 0
    shown = json.loads(capsys.readouterr().out)
    by_path = {f["path"]: f for f in shown["fields"]}
    assert shown["published"] is None and shown["draft"]["rules"]["user_id"]["treatment"] == "encrypt"
    threshold = 0.9
    high = {p for p, f in by_path.items() if f["status"] == "suggested" and f["confidence"] >= threshold}
    low = {p for p, f in by_path.items() if f["status"] == "suggested" and f["confidence"] < threshold}
    assert high and "card_number" in high

    assert deid_cli(landscape, monkeypatch, "policy", "approve", movie, "--min-confidence", str(threshold)) == 0
    assert f"{len(high)} tag(s) confirmed as test-steward" in capsys.readouterr().out
    assert deid_cli(landscape, monkeypatch, "policy", "show", movie, "--json") == 0
    after = {f["path"]: f["status"] for f in json.loads(capsys.readouterr().out)["fields"]}
    assert {p for p, s in after.items() if s == "confirmed"} == high and {
        p for p in low if after[p] == "suggested"
    } == low
    client = landscape.client()
    card_guid = client.find_entity("avro_field", field_qualified_name(f"{movie}-raw-data", "card_number", "eu"))["guid"]
    assert client.get_entity_audit(card_guid)[0]["user"] == "test-steward"

    assert deid_cli(landscape, monkeypatch, "policy", "publish", movie) == 0
    assert "published policy v1" in capsys.readouterr().out
    assert deid_cli(landscape, monkeypatch, "policy", "publish", movie) == 0
    assert "nothing published" in capsys.readouterr().out

    assert deid_cli(landscape, monkeypatch, "policy", "export", movie, "--published") == 0
    exported = yaml.safe_load(capsys.readouterr().out)
    assert (exported["domain"], exported["version"], exported["status"]) == (movie, 1, "published")
    assert exported["rules"]["card_number"]["treatment"] == "mask"
    exported["rules"]["movie_name"] = {"treatment": "drop"}
    edited = tmp_path / "policy.yaml"
    edited.write_text(yaml.safe_dump(exported))
    assert deid_cli(landscape, monkeypatch, "policy", "import", movie, str(edited)) == 0
    capsys.readouterr()
    assert deid_cli(landscape, monkeypatch, "policy", "export", movie) == 0
    draft = yaml.safe_load(capsys.readouterr().out)
    assert draft["status"] == "draft" and draft["rules"]["movie_name"] == {"treatment": "drop"}


@pytest.mark.parametrize(
    ("rule_path", "rule", "named"),
    [
        ("nope", {"treatment": "keep"}, "unknown field 'nope'"),
        ("movie_name", {"treatment": "scramble"}, "scramble"),
        ("card_number", {"treatment": "mask", "params": {"colour": "red"}}, "colour"),
        ("price", {"treatment": "date_shift"}, "date_shift"),
    ],
)
def test_policy_import_refuses_what_does_not_fit_naming_it(
    landscape: Landscape,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    rule_path: str,
    rule: dict[str, Any],
    named: str,
) -> None:
    movie = landscape.domains["movie"].name
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"domain": movie, "rules": {"user_id": {"treatment": "encrypt"}, rule_path: rule}}))
    assert deid_cli(landscape, monkeypatch, "policy", "import", movie, str(bad)) == 2
    assert named in capsys.readouterr().err


def test_deid_infer_stops_before_spark_when_the_catalog_refuses_its_user(landscape: Landscape) -> None:
    env = {**landscape.env(), "DEID_CATALOG_PASSWORD": "not-the-password"}
    run = run_deid("infer", landscape.domains["website"].name, env=env)
    assert run.returncode == 1 and "401" in run.stderr, run.stderr[-2000:]
    assert "phase 1/3" not in run.stderr and "not-the-password" not in run.stderr
