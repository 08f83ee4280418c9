"""Inference's pure publishing parts: masked evidence, catalog payloads by qualifiedName, stale suggestions,
and the draft policy built from field decisions (checked against the domain)."""

from __future__ import annotations

import json

import pytest

from deid.domains import Domain, FieldSpec, load_registry
from deid.policy import Policy, PolicyError, check_policy
from schema_inference.classify import FREE_TEXT, NON_PII, FieldDecision, Findings
from schema_inference.draft import draft_policy, field_rule
from schema_inference.job import InferenceResult
from schema_inference.profile import Profile
from schema_inference.publish import (
    avro_type_name,
    catalog_entities,
    detected_classification,
    evidence,
    is_stale,
    masked_example,
    masked_examples,
)

CHANNEL = [
    {"tv_show": "Andi Mack", "date": "23-08-2020", "user_id": "user-12345", "geo": {"lat": 1.5}, "tags": ["a"]},
    {"tv_show": "Barry", "date": "24-08-2020", "user_id": "user-54321", "geo": {"lat": 2.5}, "tags": []},
]


def result_of(events: list[dict[str, object]], topic: str = "chan-raw-data") -> InferenceResult:
    profile = Profile(10, seed=1).add_all((json.dumps(e).encode(), 0, i) for i, e in enumerate(events)).summary()
    schema = {"type": "record", "name": "ChanRaw", "namespace": "deid.chan", "fields": []}
    return InferenceResult("chan", topic, schema, profile, [], 10, None, {})


def decision(path: str, entity: str, confidence: float = 0.9, **more: object) -> FieldDecision:
    return FieldDecision(path=path, entity=entity, confidence=confidence, explanation="rule", **more)  # type: ignore[arg-type]


def test_masked_examples_keep_at_most_two_leading_characters_and_the_separators() -> None:
    assert masked_example("John Smith") == "Jo** *****"
    assert masked_example("user-12345") == "us**-*****"
    assert masked_example("Barry") == "B****"
    assert masked_example("Al") == "**"
    assert masked_example("x" * 40) == "xx" + "*" * 22 + "…(40 chars)"
    assert masked_example(12345678) == "12******"
    result = result_of(CHANNEL)
    shown = masked_examples(result.fields["tv_show"])
    assert sorted(shown) == ["An** ****", "B****"]
    assert not any("Mack" in s or "arry" in s for s in shown)


def test_catalog_entities_name_topic_schema_and_fields_by_qualified_name() -> None:
    result = result_of(CHANNEL)
    topic, schema, *fields = catalog_entities(result, "eu", 3)
    assert topic["attributes"]["qualifiedName"] == "chan-raw-data@eu"
    assert topic["relationshipAttributes"]["avroSchema"][0]["uniqueAttributes"] == {
        "qualifiedName": "chan-raw-data-value.v3@eu"
    }
    assert schema["attributes"]["qualifiedName"] == "chan-raw-data-value.v3@eu"
    by_path = {f["attributes"]["name"]: f for f in fields}
    assert set(by_path) == {"tv_show", "date", "user_id", "geo", "geo.lat", "tags", "tags[]"}
    assert by_path["geo.lat"]["attributes"]["qualifiedName"] == "chan-raw-data.geo.lat@eu"
    assert {k: by_path[k]["attributes"]["type"] for k in ("date", "geo", "geo.lat", "tags", "tags[]")} == {
        "date": "date",
        "geo": "record",
        "geo.lat": "double",
        "tags": "array",
        "tags[]": "string",
    }
    assert by_path["date"]["attributes"]["doc"] == "date in format %d-%m-%Y"
    listed = [ref["uniqueAttributes"]["qualifiedName"] for ref in schema["relationshipAttributes"]["fields"]]
    assert listed == [f["attributes"]["qualifiedName"] for f in fields]
    assert len({f["guid"] for f in fields}) == len(fields)  # placeholders map back to real guids
    assert "type" not in catalog_entities(result, "eu", 3, with_type=False)[2]["attributes"]
    assert avro_type_name(result.fields["user_id"]) == "string"


def test_classification_carries_confidence_status_and_masked_evidence() -> None:
    result = result_of(CHANNEL)
    findings = Findings()
    findings.add({"USER_ID": 1.0}, 1)
    findings.add({"USER_ID": 0.9, "PERSON": 0.4}, 2)
    chosen = decision("user_id", "USER_ID", share=1.0, mean_score=0.95, max_score=1.0, analysed=2)
    doc = evidence(chosen, result.fields["user_id"], findings, "2026-01-01T00:00:00+00:00")
    body = detected_classification(chosen, doc)
    assert body["typeName"] == "USER_ID"
    attributes = body["attributes"]
    assert (attributes["confidence"], attributes["source"], attributes["status"]) == (0.9, "detected", "suggested")
    stored = json.loads(attributes["evidence"])
    assert stored["entity_shares"] == {"PERSON": 0.5, "USER_ID": 1.0}
    assert (stored["sampled"], stored["non_null"], stored["reason"]) == (2, 2, "rule")
    assert "12345" not in attributes["evidence"] and "54321" not in attributes["evidence"]
    text = detected_classification(decision("memo", FREE_TEXT, text_entities=("PERSON", "IBAN_CODE")), {})
    assert text["attributes"]["entities"] == ["PERSON", "IBAN_CODE"]


def test_only_detected_suggestions_of_another_entity_are_stale() -> None:
    def existing(name: str, source: str, status: str) -> dict[str, object]:
        return {"typeName": name, "attributes": {"source": source, "status": status}}

    assert is_stale(existing("PERSON", "detected", "suggested"), "NON_PII")
    assert not is_stale(existing("NON_PII", "detected", "suggested"), "NON_PII")
    assert not is_stale(existing("PERSON", "detected", "rejected"), "NON_PII")
    assert not is_stale(existing("PERSON", "detected", "confirmed"), "NON_PII")
    assert not is_stale(existing("PERSON", "steward", "suggested"), "NON_PII")


def test_the_draft_policy_uses_the_defaults_per_entity_and_fits_the_domain() -> None:
    registry = load_registry()
    channel = registry.get("channel")
    decisions = {
        "user_id": decision("user_id", "USER_ID"),
        "date": decision("date", "DATE_TIME"),
        "tv_show": decision("tv_show", NON_PII),
        "channel_name": decision("channel_name", NON_PII),
        "tv_show_type": decision("tv_show_type", NON_PII),
        "extra": decision("extra", "EMAIL_ADDRESS"),  # not declared by the domain: not in its policy
    }
    policy = draft_policy(channel, decisions)
    check_policy(policy, channel)
    assert (policy.domain, policy.status) == ("channel", "draft")
    treatments = {path: rule.treatment for path, rule in policy.rules.items()}  # type: ignore[union-attr]
    assert treatments == {
        "channel_name": "keep",
        "date": "date_shift",
        "tv_show": "keep",
        "tv_show_type": "keep",
        "user_id": "encrypt",
    }
    movie = registry.get("movie")
    card = draft_policy(movie, {"card_number": decision("card_number", "CREDIT_CARD")})
    assert card.rules["card_number"].treatment == "mask"  # type: ignore[union-attr]
    memo = registry.get("memo")
    text = draft_policy(memo, {"text": decision("text", FREE_TEXT, text_entities=("PERSON", "IBAN_CODE"))})
    assert text.rules["text"].treatment == "anonymize_text"  # type: ignore[union-attr]
    assert text.rules["text"].params.entities == ["IBAN_CODE", "PERSON"]  # type: ignore[union-attr]
    # a field outside the domain is judged by what inference saw in it
    result = result_of(CHANNEL)
    assert field_rule(decision("geo.lat", "LOCATION"), channel, result.fields["geo.lat"]).treatment == "mask"


def test_a_draft_that_does_not_fit_its_domain_is_refused() -> None:
    domain = Domain(name="odd", subject_field=None, fields={"day": FieldSpec(type="date", format="%d-%m-%Y")})
    # no subject: a date cannot be shifted per subject, so the default falls back to month generalisation
    assert draft_policy(domain, {"day": decision("day", "DATE_TIME")}).rules["day"].treatment == "generalize"  # type: ignore[union-attr]
    stray = Policy.from_document({"domain": "odd", "rules": {"nope": {"treatment": "keep"}}})
    with pytest.raises(PolicyError, match="unknown field 'nope'"):
        check_policy(stray, domain)
