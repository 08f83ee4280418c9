"""Field classification from structure on the real stack: a channel-like topic whose shows the project never
saw (person-like titles written for this test, in no training list) comes out NON_PII, the viewer-name column
beside it PERSON, the event time EVENT_TIME, and the structural signals are in the evidence the catalog holds.

Session broker, Spark local[2], deid's analyzer on the executors, a private catalog server that knows the
domain (the draft policy is validated against it).
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from faker import Faker
from pydantic import SecretStr

from deid.domains import Domain, FieldSpec
from deid.kafka import make_admin, make_producer
from producers.produce import produce_events, producer_overrides
from producers.sources import OutgoingEvent, encode_json
from schema_inference.classify import NON_PII
from schema_inference.publish import field_qualified_name
from schema_inference.run import run_inference
from tests.catalog_support import start_catalog
from tests.conftest import REPO, Broker

pytestmark = pytest.mark.kafka

# Made up for this test: they read like people's names, and no recognizer list or training text holds them.
PROGRAMMES = [
    "Agnes Marlowe",
    "Inspector Ravelston",
    "Dr Oona Petrakis",
    "Sister Evangeline",
    "Maud and Tobias",
    "Corwin Ashdale",
    "Hollis Quarry",
    "Tamsin Holloway",
]
VIEWERS = 150
EVENTS = 1500


def viewing_domain() -> Domain:
    return Domain(
        name=f"viewing_{uuid.uuid4().hex[:6]}",
        subject_field="viewer_id",
        event_time_field="watched",
        fields={
            "station": FieldSpec(type="string"),
            "programme": FieldSpec(type="string"),
            "watched": FieldSpec(type="date", format="%d-%m-%Y"),
            "viewer_id": FieldSpec(type="string"),
            "viewer_name": FieldSpec(type="string"),
        },
    )


def viewing_events(seed: int = 21) -> list[OutgoingEvent]:
    rng = random.Random(seed)
    names: list[str] = []
    for locale in ("en_GB", "nl_NL", "de_DE", "fr_FR", "it_IT", "pl_PL"):
        fake = Faker(locale)
        fake.seed_instance(seed)
        names += [f"{fake.first_name()} {fake.last_name()}" for _ in range(VIEWERS // 3)]
    viewers = list(zip([f"v-{n:06d}" for n in rng.sample(range(10**6), VIEWERS)], dict.fromkeys(names), strict=False))
    out = []
    for number in range(EVENTS):
        viewer, name = rng.choice(viewers)
        event = {
            "station": rng.choice(["North One", "Kanal Zeven", "Tele Est"]),
            "programme": rng.choice(PROGRAMMES),
            "watched": f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-2025",
            "viewer_id": viewer,
            "viewer_name": name,
        }
        out.append(OutgoingEvent(f"viewing:{number}", viewer.encode(), encode_json(event).encode(), None))
    return out


def test_unseen_person_like_titles_are_non_pii_and_viewer_names_person_with_evidence(
    kafka: Broker, spark: Any, tmp_path: Any
) -> None:
    domain = viewing_domain()
    definitions = {domain.name: domain.model_dump(mode="json", exclude={"name"})}
    catalog = start_catalog(tmp_path / "catalog", None, domains=definitions)
    try:
        settings = kafka.settings.model_copy(
            update={
                "catalog_url": catalog.url,
                "catalog_password": SecretStr(catalog.admin_password),
                "domains": definitions,
                "spark_jars_dir": REPO / ".deid" / "spark-jars",
            }
        )
        admin = make_admin(settings)  # held: a collected admin client cancels its pending futures
        admin.create_topics([NewTopic(domain.raw_topic, 2, 1)])[domain.raw_topic].result(30)
        producer = make_producer(settings, **producer_overrides(settings))
        assert produce_events(producer, domain.raw_topic, viewing_events()).delivered == EVENTS

        outcome = run_inference(settings, domain, spark=spark, sample=400, progress=None)

        decisions = outcome.result.decisions
        assert decisions["programme"].entity == NON_PII, decisions["programme"].explanation
        assert decisions["station"].entity == NON_PII, decisions["station"].explanation
        assert decisions["viewer_name"].entity == "PERSON", decisions["viewer_name"].explanation
        assert decisions["watched"].entity == "EVENT_TIME" and "event time" in decisions["watched"].explanation
        rules = {path: rule.treatment for path, rule in outcome.policy.rules.items()}  # type: ignore[union-attr]
        assert rules["programme"] == "keep" and rules["watched"] == "date_shift" and rules["viewer_name"] == "mask"

        client = catalog.client("viewer")
        cluster = settings.cluster

        def evidence(path: str, entity: str) -> dict[str, Any]:
            found = client.find_entity("avro_field", field_qualified_name(domain.raw_topic, path, cluster))
            assert found is not None, path
            tags = {c["typeName"]: c["attributes"] for c in client.get_classifications(found["guid"])}
            assert set(tags) == {entity}, (path, set(tags))
            return json.loads(tags[entity]["evidence"])

        shows = evidence("programme", NON_PII)["structure"]
        assert shows["shared_across_subjects"] == 1.0 and shows["functional_on_subject"] < 0.5
        assert shows["sampled_subjects"] == VIEWERS and shows["shape"]
        names = evidence("viewer_name", "PERSON")["structure"]
        assert names["functional_on_subject"] == 1.0 and names["shared_across_subjects"] <= 0.05
        watched = evidence("watched", "EVENT_TIME")
        assert watched["role"] == "event_time" and watched["structure"]["functional_on_subject"] < 0.5
        shown = json.dumps([evidence("programme", NON_PII), evidence("viewer_name", "PERSON")])
        assert not any(title in shown for title in PROGRAMMES)  # masked: never a raw value in the evidence
    finally:
        catalog.stop()
