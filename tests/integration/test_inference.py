"""Schema inference end to end on a real broker with Spark local[2]: every seed domain's types and date
formats, nested data, corrupt records, --max-events, and classification on the executors."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from fastavro import parse_schema
from fastavro.validation import validate

from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.kafka import make_admin, make_producer
from recognizers import build_analyzer
from schema_inference.classify import NON_PII
from schema_inference.job import classify, infer_domain
from schema_inference.summary import print_summary
from tests.conftest import Broker

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
SEED_EVENTS = REPO.parent / "shared" / "fixtures" / "channel_seed_events.jsonl"
Event = dict[str, Any]


# --- a tiny local generator per seed domain (the producers package has the real ones) ------------------

FIRST = ["Anna", "Jean", "María", "Piotr", "Sophie", "Luca", "Emma", "Jan", "Lena", "Noah"]
LAST = ["Müller", "Dubois", "García", "Nowak", "Rossi", "de Vries", "Schmidt", "Martin", "Kowalski", "Bianchi"]


def _day(rng: random.Random) -> datetime:
    return datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 1000), seconds=rng.randint(0, 86399))


def _phone(rng: random.Random) -> str:
    return rng.choice(["+49 151 ", "+33 6 ", "+48 512 ", "+31 6 "]) + f"{rng.randint(1000000, 9999999)}"


def _user(rng: random.Random) -> str:
    return f"user-{rng.randint(10000, 99999)}"


def channel(rng: random.Random) -> Event:
    return {
        "channel_name": rng.choice(["Fox", "HBO", "CBS", "MTV", "Disney Channel"]),
        "tv_show": rng.choice(["Barry", "Andi Mack", "9-1-1", "Blood & Treasure", "Siesta Key"]),
        "tv_show_type": rng.choice(["Drama", "Comedy", "Action", "Reality"]),
        "date": _day(rng).strftime("%d-%m-%Y"),
        "user_id": _user(rng),
    }


def movie(rng: random.Random) -> Event:
    return {
        "movie_name": rng.choice(["Heat", "Amélie", "Das Boot", "Roma"]),
        "movie_type": rng.choice(["Thriller", "Comedy", "Drama"]),
        "purchase_date": _day(rng).strftime("%d-%m-%Y"),
        "user_id": _user(rng),
        "price": round(rng.uniform(1, 20), 2),
        "card_number": "3" + "".join(rng.choice("0123456789") for _ in range(14)),
    }


def website(rng: random.Random) -> Event:
    return {
        "domain": rng.choice(["example.com", "news.example.org", "shop.example.net"]),
        "website_type": rng.choice(["news", "shop", "social"]),
        "date": _day(rng).strftime("%d-%m-%Y"),
        "user_id": _user(rng),
    }


def mobile(rng: random.Random) -> Event:
    return {
        "a_party": _phone(rng),
        "b_party": _phone(rng),
        "starting_time": _day(rng).strftime("%m-%d-%Y"),
        "duration": rng.randint(1, 7200),
        "call_type": rng.choice(["voice", "sms", "video"]),
    }


def memo(rng: random.Random) -> Event:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return {
        "memo_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "created_at": _day(rng).strftime("%Y-%m-%dT%H:%M:%S%z"),
        "text": f"Call from {name} about the invoice of {_day(rng):%d %B %Y}; please ring back on {_phone(rng)} "
        f"or write to {name.split()[0].lower()}@example.com before Friday.",
    }


def profile(rng: random.Random) -> Event:
    return {
        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "dob": (datetime(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))).strftime("%Y-%m-%d"),
        "gender": rng.choice(["female", "male", "diverse"]),
        "ssn_no": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "data_share_consent": rng.random() < 0.7,
        "evnt_time": _day(rng).strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def clickstream(rng: random.Random) -> Event:
    event: Event = {
        "session_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "user_id": _user(rng),
        "event_type": rng.choice(["view", "click", "purchase"]),
        "page_url": f"https://shop.example.com/p/{rng.randint(1, 500)}",
        "ts": (_day(rng) + timedelta(microseconds=rng.randint(0, 999999))).strftime("%Y-%m-%dT%H:%M:%S.%f%z"),
        "ip_address": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "device_id": uuid.UUID(int=rng.getrandbits(128)).hex[:16],
        "consent_level": rng.randint(0, 3),
    }
    if rng.random() < 0.8:  # signed-out sessions have no e-mail: the field must come out nullable
        event["email"] = f"{rng.choice(FIRST).lower()}.{rng.randint(1, 99)}@example.com"
    return event


GENERATORS: dict[str, Callable[[random.Random], Event]] = {
    "channel": channel,
    "movie": movie,
    "website": website,
    "mobile": mobile,
    "memo": memo,
    "profile": profile,
    "clickstream": clickstream,
}


def private_domain(name: str, **changes: Any) -> Domain:
    """A seed domain under a unique name, so its topic is this test's own on the shared broker."""
    seed = load_registry().get(name) if name in GENERATORS else None
    body = seed.model_dump(exclude={"name"}) if seed else {"subject_field": None, "fields": {"id": {"type": "int"}}}
    return Domain(name=f"{name}_{uuid.uuid4().hex[:8]}", **{**body, **changes})


def produce(kafka: Broker, domain: Domain, values: list[bytes], partitions: int = 1) -> None:
    admin = make_admin(kafka.settings)
    admin.create_topics([NewTopic(domain.raw_topic, partitions, 1)])[domain.raw_topic].result(30)
    producer = make_producer(kafka.settings)
    for index, value in enumerate(values):
        producer.produce(domain.raw_topic, key=str(index).encode(), value=value)
    assert producer.flush(30) == 0


def encode(events: list[Event]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def events_for(name: str, count: int, seed: int = 8) -> list[Event]:
    rng = random.Random(seed)
    return [GENERATORS[name](rng) for _ in range(count)]


EXPECTED_TYPE = {"string": "string", "text": "string", "int": "int", "double": "double", "boolean": "boolean"}


# --- tests --------------------------------------------------------------------------------------------------


# Spelled out for the fields the brief names (the loop below also checks every field against the registry).
EXPLICIT_FORMATS = {
    "channel": ("date", "%d-%m-%Y"),
    "mobile": ("starting_time", "%m-%d-%Y"),
    "profile": ("dob", "%Y-%m-%d"),
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_every_seed_domain_infers_its_declared_types_and_formats(
    kafka: Broker, spark: Any, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    domain = private_domain(name)
    events = events_for(name, 300)
    if name == "channel":  # the original demo's 16 events, "Barry" and "Andi Mack" among them
        events += [json.loads(line) for line in SEED_EVENTS.read_text().splitlines()]
    produce(kafka, domain, encode(events), partitions=2)

    result = infer_domain(kafka.settings, domain, spark, sample=100)

    assert (result.events, result.corrupt, result.planned) == (len(events), 0, len(events))
    fields = result.fields
    assert set(fields) == set(domain.fields)
    for field_name, spec in domain.fields.items():
        found = fields[field_name]
        if spec.type in ("date", "timestamp"):
            assert (found.types, found.kind, found.format) == ({"string": len(events)}, spec.type, spec.format), (
                field_name
            )
        else:
            assert found.kind is None, field_name
            assert set(found.types) - {"null"} == {EXPECTED_TYPE[spec.type]}, field_name
        assert len(found.sample) == min(100, found.sampled_from)
    parsed = parse_schema(result.schema)
    assert all(validate(event, parsed) for event in events)
    assert result.schema["namespace"] == f"deid.{domain.name}"
    if name in EXPLICIT_FORMATS:
        field_name, fmt = EXPLICIT_FORMATS[name]
        assert fields[field_name].format == fmt
    if name == "clickstream":  # signed-out sessions have no e-mail: a nullable union
        email = next(f for f in result.schema["fields"] if f["name"] == "email")
        assert email["type"] == ["null", "string"] and email["default"] is None
    if name == "channel":
        print_summary(result, domain)
        table = capsys.readouterr().out
        assert "%d-%m-%Y" in table and "user_id" in table and "user-" not in table  # no values in the summary


def test_nested_records_arrays_maps_and_optional_fields(kafka: Broker, spark: Any) -> None:
    rng = random.Random(5)
    events = []
    for index in range(200):
        event: Event = {
            "id": index,
            "big": 2**40 + index,
            "geo": {"lat": rng.uniform(-90, 90), "lon": rng.uniform(-180, 180)},
            "tags": rng.sample(["a", "b", "c", "d"], rng.randint(0, 3)),
            "lines": [{"sku": f"sku-{rng.randint(1, 9)}", "qty": rng.randint(1, 5)} for _ in range(rng.randint(0, 2))],
            "visits": {_user(rng): rng.randint(1, 9) for _ in range(rng.randint(0, 3))},
            "seen_at": [(_day(rng)).strftime("%Y-%m-%dT%H:%M:%SZ") for _ in range(2)],
        }
        if index % 4 == 0:
            event["note"] = None
        elif index % 4 == 1:
            event["note"] = "called back"
        events.append(event)
    domain = private_domain("nested")
    produce(kafka, domain, encode(events), partitions=2)

    result = infer_domain(kafka.settings, domain, spark, progress=None)

    fields = result.fields
    assert fields["id"].types == {"int": 200} and fields["big"].types == {"long": 200}
    assert fields["geo"].types == {"record": 200} and fields["geo.lat"].types == {"double": 200}
    assert fields["tags[]"].types == {"string": sum(len(e["tags"]) for e in events)}
    assert fields["lines[].qty"].types == {"int": sum(len(e["lines"]) for e in events)}
    assert fields["visits"].types == {"map": 200} and "visits{}" in fields
    assert (fields["seen_at[]"].kind, fields["seen_at[]"].format) == ("timestamp", "%Y-%m-%dT%H:%M:%S%z")
    note = fields["note"]
    assert (note.nulls, note.missing, note.types) == (50, 100, {"null": 50, "string": 50})
    parsed = parse_schema(result.schema)
    assert all(validate(event, parsed) for event in events)


def test_a_topic_with_ten_percent_corrupt_records_still_infers(kafka: Broker, spark: Any) -> None:
    good = encode(events_for("channel", 270, seed=11))
    secret = "Jane Doe, +49 151 2345678"
    bad = [secret.encode(), b"\xff\xfe\x00" + secret.encode(), json.dumps([secret]).encode()] * 10
    values = []
    for index in range(300):
        values.append(bad.pop() if index % 10 == 9 else good.pop())
    domain = private_domain("channel")
    produce(kafka, domain, values, partitions=3)

    result = infer_domain(kafka.settings, domain, spark, progress=None)

    assert (result.events, result.profile.valid, result.corrupt) == (300, 270, 30)
    assert result.profile.corrupt_reasons == {"not JSON": 10, "not UTF-8": 10, "not an object": 10}
    assert result.fields["date"].format == "%d-%m-%Y" and result.fields["user_id"].types == {"string": 270}
    examples = result.profile.corrupt_examples
    assert examples and all(e.shape.startswith("<") for e in examples)
    assert not any("Jane" in e.shape or "2345678" in e.shape for e in examples)


def test_max_events_bounds_what_is_read(kafka: Broker, spark: Any) -> None:
    domain = private_domain("channel")
    produce(kafka, domain, encode(events_for("channel", 600, seed=12)), partitions=3)

    bounded = infer_domain(kafka.settings, domain, spark, max_events=90, progress=None)

    assert bounded.events == 90 and bounded.planned == 90
    assert [r.start for r in bounded.ranges] == [0, 0, 0] and sum(r.count for r in bounded.ranges) == 90
    assert bounded.fields["user_id"].count == 90
    everything = infer_domain(kafka.settings, domain, spark, max_events=10_000, progress=None)
    assert everything.events == 600


def test_classification_runs_on_the_executors_and_decides_per_field(kafka: Broker, spark: Any) -> None:
    domain = private_domain("channel")
    produce(kafka, domain, encode(events_for("channel", 120, seed=13)))
    result = infer_domain(kafka.settings, domain, spark, progress=None)

    decisions = classify(spark, result, partial(build_analyzer, kafka.settings), progress=None)

    assert decisions["user_id"].entity == "USER_ID" and decisions["user_id"].share == 1.0
    assert decisions["user_id"].analysed == 120
    assert decisions["tv_show"].entity == NON_PII and decisions["channel_name"].entity == NON_PII
    assert decisions["date"].entity == "EVENT_TIME" and decisions["date"].role == "event_time"
    assert result.decisions is decisions and "classify" in result.timings


def test_a_missing_topic_is_an_error_naming_it(kafka: Broker, spark: Any) -> None:
    domain = private_domain("channel")
    with pytest.raises(DeidError, match=f"topic {domain.raw_topic} does not exist"):
        infer_domain(kafka.settings, domain, spark, progress=None)
