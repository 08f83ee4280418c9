"""The effective-tag rule: confirmed beats suggested, rejections never count, nothing left is NON_PII."""

from __future__ import annotations

import json

from catalog.tags import effective_tag
from deid.tags import FREE_TEXT, NON_PII, PII, TAGS, TYPES
from tests.conftest import REPO


def tag(name: str, status: str = "suggested", source: str = "detected", confidence: float = 0.5, **extra: object):
    return {"typeName": name, "attributes": {"status": status, "source": source, "confidence": confidence, **extra}}


def test_the_most_confident_suggestion_wins_without_a_decision() -> None:
    result = effective_tag([tag("PERSON", confidence=0.4), tag("LOCATION", confidence=0.8)])
    assert (result.entity, result.status, result.needs_review) == ("LOCATION", "suggested", True)


def test_a_confirmed_tag_beats_a_more_confident_suggestion() -> None:
    result = effective_tag([tag("PERSON", "confirmed", confidence=0.3), tag("LOCATION", confidence=0.9)])
    assert (result.entity, result.status, result.is_pii) == ("PERSON", "confirmed", True)


def test_a_stewards_own_entity_beats_a_confirmed_suggestion() -> None:
    steward_choice = tag("EMAIL_ADDRESS", "confirmed", "steward", 1)
    result = effective_tag([tag("PERSON", "confirmed", confidence=0.9), steward_choice])
    assert result.entity == "EMAIL_ADDRESS" and result.source == "steward"


def test_rejections_never_count_and_nothing_left_is_non_pii() -> None:
    result = effective_tag([tag("PERSON", "rejected", "steward", 0.9)])
    assert (result.entity, result.is_pii, result.needs_review) == (NON_PII, False, False)
    assert effective_tag([]).entity == NON_PII


def test_evidence_and_free_text_entities_are_read() -> None:
    evidence = json.dumps({"share": 0.8, "examples": ["Jo** ***"]})
    result = effective_tag([tag("FREE_TEXT", evidence=evidence, entities=["PERSON", "IBAN_CODE"])])
    assert result.evidence["share"] == 0.8 and result.entities == ["IBAN_CODE", "PERSON"]
    assert effective_tag([tag("PERSON", evidence="{not json")]).evidence == {}


def test_every_tag_and_type_name_of_deid_tags_is_a_bootstrap_typedef() -> None:
    document = json.loads((REPO / "catalog" / "server" / "bootstrap" / "deid.json").read_text())
    classifications = {d["name"] for d in document["classificationDefs"]}
    entities = {d["name"] for d in document["entityDefs"]}
    assert set(TAGS) <= classifications and set(TYPES) == entities
    subtypes = {d["name"] for d in document["classificationDefs"] if PII in (d.get("superTypes") or [])}
    assert NON_PII not in subtypes and FREE_TEXT in classifications
