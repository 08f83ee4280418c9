from __future__ import annotations

from pathlib import Path

import pytest

from deid.domains import DomainError, build_registry, load_registry
from deid.settings import load_settings

SEED_DOMAINS = {"channel", "movie", "website", "mobile", "memo", "profile", "clickstream"}


def test_seven_seed_domains_with_topics() -> None:
    registry = load_registry()
    assert set(registry.names) == SEED_DOMAINS
    channel = registry.get("channel")
    assert channel.topics == ("channel-raw-data", "channel-anonymised-data", "channel-dlq")
    assert channel.subject_field == "user_id"
    assert channel.fields["date"].format == "%d-%m-%Y"
    assert registry.get("mobile").fields["starting_time"].format == "%m-%d-%Y"
    assert set(registry.get("movie").fields) >= {"card_number", "price", "user_id"}


def test_consent_specs() -> None:
    registry = load_registry()
    profile = registry.get("profile").consent
    assert profile is not None and profile.field == "data_share_consent"
    assert (profile.level_of(True), profile.level_of(False), profile.level_of(None)) == (1, 0, 0)
    clicks = registry.get("clickstream").consent
    assert clicks is not None
    assert [clicks.level_of(v) for v in (3, "2", None, "bogus")] == [3, 2, 0, 0]


def test_unknown_domain_lists_known_ones() -> None:
    with pytest.raises(DomainError, match=r"unknown domain 'chanel'; known domains: channel, clickstream"):
        load_registry().get("chanel")


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            {"subject_field": "id", "fields": {"id": {"type": "string"}}, "colour": "red"},
            "domain 'shop': unknown key 'colour'",
        ),
        ({"fields": {"id": {"type": "string"}}}, "domain 'shop': missing key 'subject_field'"),
        (
            {"subject_field": "who", "fields": {"id": {"type": "string"}}},
            "domain 'shop': key '(definition)': subject_field 'who' is not one of the domain's fields",
        ),
        ({"subject_field": None, "fields": {"id": {"type": "uuid"}}}, "domain 'shop': key 'fields.id.type'"),
        ({"subject_field": None, "fields": {"at": {"type": "date"}}}, "needs a strftime 'format'"),
        (
            {"subject_field": None, "fields": {"id": {"type": "string", "nullable": True}}},
            "domain 'shop': unknown key 'fields.id.nullable'",
        ),
        (
            {"subject_field": None, "consent": {"field": "id", "kind": "levels"}, "fields": {"id": {"type": "int"}}},
            "needs a 'levels' mapping",
        ),
        ({"subject_field": None, "fields": {}}, "domain 'shop': key 'fields'"),
        ("not a mapping", "domain 'shop': definition must be a mapping"),
    ],
)
def test_invalid_domain_names_domain_and_key(definition: object, expected: str) -> None:
    with pytest.raises(DomainError) as info:
        build_registry({"shop": definition}, source="my.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("my.yaml: ")


def test_config_file_adds_and_replaces_domains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text(
        "domains:\n"
        "  shop:\n"
        "    subject_field: customer\n"
        "    fields: {customer: {type: string}, total: {type: double}}\n"
        "  channel:\n"
        "    subject_field: viewer\n"
        "    fields: {viewer: {type: string}}\n"
    )
    monkeypatch.setenv("DEID_CONFIG", str(config))
    registry = load_registry(load_settings())
    assert registry.get("shop").raw_topic == "shop-raw-data"
    assert registry.get("channel").subject_field == "viewer"
    assert len(registry) == 8


def test_bad_domain_in_config_file_names_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text("domains:\n  shop:\n    subject_field: x\n    fields: {x: {type: string}}\n    typo: 1\n")
    monkeypatch.setenv("DEID_CONFIG", str(config))
    with pytest.raises(DomainError, match=r"deid.yaml: domain 'shop': unknown key 'typo'"):
        load_registry(load_settings())


def test_select() -> None:
    registry = load_registry()
    assert [d.name for d in registry.select(["movie", "memo"])] == ["movie", "memo"]
    assert len(registry.select(None)) == 7
    with pytest.raises(DomainError):
        registry.select(["movie", "nope"])
