"""Compiled plans: fail closed, nested paths, consent rules, purposes, errors without values."""

from __future__ import annotations

import json

import pytest

from deid.domains import Domain, load_registry, parse_domains
from deid.policy import Policy, PolicyError
from deid.settings import Settings
from pipelines.keys import Keystore
from pipelines.plan import PlanError, compile_policy
from pipelines.transforms import TokenDecryptor, TreatmentError
from pipelines.transforms.anonymize_text import TextAnalysis
from tests.conftest import REPO
from tests.unit.test_policy import CHANNEL_POLICY, CLICKSTREAM_POLICY, PROFILE_POLICY

SEED = REPO.parent / "shared" / "fixtures" / "channel_seed_events.jsonl"
CHANNEL_EVENT = {
    "channel_name": "Disney",
    "tv_show": "Andi Mack",
    "tv_show_type": "family",
    "date": "15-06-2024",
    "user_id": "user-00042",
}


def domain(name: str) -> Domain:
    return load_registry().get(name)


def test_channel_plan(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), domain("channel"), keystore)
    out = plan.apply(dict(CHANNEL_EVENT))
    assert list(out) == ["channel_name", "date", "tv_show", "tv_show_type", "user_id"]
    assert out["tv_show"] == "Andi Mack" and out["channel_name"] == "Disney"
    assert out["date"] != "15-06-2024" and len(out["date"]) == 10
    assert "user-00042" not in json.dumps(out)
    assert TokenDecryptor(keystore).decrypt(out["user_id"]) == "user-00042"
    assert plan.uncovered == set() and plan.unruled_fields == []
    assert plan.version == 1 and plan.topic == "channel-anonymised-data"


def test_seed_fixture_events(keystore: Keystore) -> None:
    if not SEED.exists():
        pytest.fail(f"seed fixture missing: {SEED}")
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), domain("channel"), keystore)
    events = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
    assert len(events) == 16
    for event in events:
        out = plan.apply(event)
        assert out["tv_show"] == event["tv_show"]
        assert event["user_id"] not in json.dumps(out)


def test_fail_closed_uncovered_fields_are_dropped_and_reported(keystore: Keystore) -> None:
    partial = Policy.from_yaml("domain: channel\nrules:\n  tv_show: {treatment: keep}\n  date: {treatment: drop}\n")
    plan = compile_policy(partial, domain("channel"), keystore)
    assert plan.unruled_fields == ["channel_name", "tv_show_type", "user_id"]
    out = plan.apply({**CHANNEL_EVENT, "email": "ann@example.org", "ssn": "123-45-6789"})
    assert out == {"tv_show": "Andi Mack"}
    assert plan.uncovered == {"channel_name", "tv_show_type", "user_id", "email", "ssn"}  # drop is not "uncovered"
    assert plan.apply({"tv_show": "Barry"}) == {"tv_show": "Barry"}
    assert plan.apply({}) == {"tv_show": None}  # a missing field goes out as null


def test_treatment_error_names_the_field_and_never_the_value(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), domain("channel"), keystore)
    secret_date = "2024/06/15-secret-7731"
    with pytest.raises(TreatmentError) as info:
        plan.apply({**CHANNEL_EVENT, "date": secret_date})
    error = info.value
    assert error.field_path == "date" and "%d-%m-%Y" in error.reason
    for text in (str(error), repr(error), str(error.args)):
        assert "secret-7731" not in text and "user-00042" not in text
    assert error.__cause__ is None and error.__context__ is None  # no chained exception holds the value
    with pytest.raises(TreatmentError, match=r"'\(record\)': not a JSON object"):
        plan.apply(["not", "an", "object"])
    with pytest.raises(TreatmentError, match="has no subject value"):
        plan.apply({k: v for k, v in CHANNEL_EVENT.items() if k != "user_id"})
    with pytest.raises(TreatmentError, match=r"the subject value \('user_id'\) is a dict, not a scalar"):
        plan.apply({**CHANNEL_EVENT, "user_id": {"nested": "user-00042"}})
    keep_date = Policy.from_yaml("domain: channel\nrules:\n  user_id: {treatment: encrypt}\n")
    with pytest.raises(TreatmentError, match="'user_id': cannot encrypt a list"):
        compile_policy(keep_date, domain("channel"), keystore).apply({"user_id": ["user-00042"]})


def test_profile_consent_scrubbing(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(PROFILE_POLICY), domain("profile"), keystore)
    person = {
        "name": "Ann Example",
        "dob": "1980-02-03",
        "gender": "f",
        "ssn_no": "123-45-6789",
        "evnt_time": "2024-06-15T10:11:12+0000",
    }
    opted_in = plan.apply({**person, "data_share_consent": True})
    assert opted_in["dob"] == "1980-02-03" and opted_in["ssn_no"] == "123-45-6789"
    assert opted_in["data_redacted"] is False and opted_in["evnt_time"] == "2024-06-01T00:00:00+0000"
    opted_out = plan.apply({**person, "data_share_consent": False})
    assert opted_out["dob"] == opted_out["ssn_no"] == "REDACTED_CONTENT" and opted_out["data_redacted"] is True
    unknown = plan.apply({**person})  # no consent value: the default level (0), so scrubbed
    assert unknown["ssn_no"] == "REDACTED_CONTENT" and unknown["data_redacted"] is True
    assert opted_in["name"] == opted_out["name"] != "Ann Example" and len(opted_in["name"]) == 12


def test_purpose_streams_by_consent_level(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(CLICKSTREAM_POLICY), domain("clickstream"), keystore)
    row = {
        "session_id": "s1",
        "user_id": "user-7",
        "email": "ann@example.org",
        "page_url": "/home",
        "ip_address": "192.0.2.77",
        "consent_level": 2,
    }
    outputs = dict(plan.outputs(row))
    assert set(outputs) == {"clickstream-anonymised-data", "clickstream-recommender-data"}
    main, recommender = outputs["clickstream-anonymised-data"], outputs["clickstream-recommender-data"]
    assert main["ip_address"] == "192.0.2.0" and "page_url" not in main
    assert recommender["page_url"] == "/home" and recommender["email"] == main["email"] != row["email"]
    assert recommender["user_id"] != plan.apply(dict(row))["user_id"]  # its own key: unlinkable to the main stream
    again = dict(plan.outputs({**row, "session_id": "s2"}))["clickstream-recommender-data"]
    other_user = dict(plan.outputs({**row, "user_id": "user-8"}))["clickstream-recommender-data"]
    assert again["user_id"] == recommender["user_id"] != other_user["user_id"]
    low = dict(plan.outputs({**row, "consent_level": 1}))
    assert set(low) == {"clickstream-anonymised-data", "clickstream-analytics-data"}
    skipped = {p.name: p.skipped for p in plan.purposes}
    assert skipped == {"analytics": 3, "recommender": 1}


def nested_domain() -> Domain:
    return parse_domains(
        {
            "orders": {
                "subject_field": "customer.id",
                "fields": {
                    "order_id": {"type": "string"},
                    "customer.id": {"type": "string"},
                    "customer.email": {"type": "string"},
                    "customer.address.postcode": {"type": "string"},
                    "items[].sku": {"type": "string"},
                    "items[].price": {"type": "double"},
                    "items[].bought": {"type": "date", "format": "%Y-%m-%d"},
                    "tags[]": {"type": "string"},
                },
            }
        },
        "test",
    )["orders"]


NESTED_POLICY = """
domain: orders
rules:
  order_id: {treatment: keep}
  customer.id: {treatment: mask, params: {length: 16}}
  customer.address.postcode: {treatment: generalize, params: {kind: postcode_prefix, length: 3}}
  items[].sku: {treatment: keep}
  items[].price: {treatment: generalize, params: {kind: number_bucket, size: 10}}
  items[].bought: {treatment: date_shift}
  tags[]: {treatment: mask, params: {length: 8}}
"""


def test_nested_paths(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(NESTED_POLICY), nested_domain(), keystore)
    order = {
        "order_id": "o-1",
        "customer": {"id": "c-9", "email": "c9@example.org", "address": {"postcode": "SW1A 1AA", "street": "x"}},
        "items": [
            {"sku": "A", "price": 12.5, "bought": "2024-06-15", "gift_note": "for Ann"},
            None,
            {"sku": "B", "price": 99.0, "bought": "2024-06-20"},
        ],
        "tags": ["vip", None],
    }
    out = plan.apply(order)
    assert out["order_id"] == "o-1"
    assert set(out["customer"]) == {"id", "address"} and len(out["customer"]["id"]) == 16
    assert out["customer"]["address"] == {"postcode": "SW1"}
    assert [i and (i["sku"], i["price"]) for i in out["items"]] == [("A", 10.0), None, ("B", 90.0)]
    first, third = out["items"][0]["bought"], out["items"][2]["bought"]
    from datetime import date

    gap = date.fromisoformat(third) - date.fromisoformat(first)
    assert gap.days == 5 and first != "2024-06-15"  # one subject, one shift: spacing kept
    assert len(out["tags"][0]) == 8 and out["tags"][1] is None
    assert plan.uncovered == {"customer.email", "customer.address.street", "items[].gift_note"}
    assert "c9@example.org" not in json.dumps(out) and "for Ann" not in json.dumps(out)
    assert plan.apply({"order_id": "o-2"})["items"] is None
    with pytest.raises(TreatmentError) as info:
        plan.apply({**order, "items": {"sku": "A"}})
    assert info.value.field_path == "items" and "expected an array" in info.value.reason
    with pytest.raises(TreatmentError, match=r"'items\[\]': expected an object"):
        plan.apply({**order, "items": ["A"]})
    with pytest.raises(TreatmentError, match=r"'customer': expected an object"):
        plan.apply({**order, "customer": "c-9"})


def test_compile_errors(keystore: Keystore) -> None:
    with pytest.raises(PolicyError, match=r"rules\.ghost: unknown field"):
        compile_policy(
            Policy.from_yaml("domain: channel\nrules:\n  ghost: {treatment: keep}\n"), domain("channel"), keystore
        )
    memo = Policy.from_yaml("domain: memo\nrules:\n  text: {treatment: anonymize_text}\n")
    blank = TextAnalysis(Settings(nlp_engine="blank"))
    with pytest.raises(PlanError, match=r"rules\.text: the NLP engine in force cannot detect names"):
        compile_policy(memo, domain("memo"), keystore, text_analysis=blank)
    with pytest.raises(PlanError, match=r"rules\.text: anonymize_text needs the NLP engine"):
        compile_policy(memo, domain("memo"), keystore)
    clash = parse_domains(
        {"c": {"subject_field": None, "fields": {"a": {"type": "string"}, "a.b": {"type": "string"}}}}, "test"
    )["c"]
    both = Policy.from_yaml("domain: c\nrules:\n  a: {treatment: keep}\n  a.b: {treatment: keep}\n")
    with pytest.raises(PlanError, match="used both as a value and as an object"):
        compile_policy(both, clash, keystore)


def test_plan_repr_holds_no_keys(keystore: Keystore) -> None:
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), domain("channel"), keystore)
    assert repr(plan) == "Plan(domain='channel', version=1, purposes=[])"
