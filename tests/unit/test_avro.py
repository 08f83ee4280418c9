"""The anonymised Avro schema derived from domain + policy, and Confluent-framed encoding."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest

from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.policy import Policy
from pipelines.avro import (
    AvroEncodeError,
    ConfluentAvroEncoder,
    anonymised_schema,
    decode_confluent,
    output_types,
    required_fields_of,
)
from pipelines.keys import Keystore
from pipelines.plan import compile_policy
from tests.unit.test_plan import NESTED_POLICY, nested_domain
from tests.unit.test_policy import CHANNEL_POLICY, CLICKSTREAM_POLICY, PROFILE_POLICY


def domain(name: str) -> Domain:
    return load_registry().get(name)


def fields_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f["type"] for f in schema["fields"]}


def test_channel_schema_types_follow_treatments() -> None:
    policy = Policy.from_yaml(
        CHANNEL_POLICY.replace("tv_show_type: {treatment: keep}", "tv_show_type: {treatment: drop}")
    )
    schema = anonymised_schema(domain("channel"), policy)
    fastavro.parse_schema(schema)  # a valid Avro schema
    assert schema["name"] == "channel_anonymised" and schema["namespace"] == "deid.anonymised"
    # Domain order, dropped field absent, everything nullable (the registry does not promise presence).
    assert fields_of(schema) == {
        "channel_name": ["null", "string"],
        "tv_show": ["null", "string"],
        "date": ["null", "string"],
        "user_id": ["null", "string"],
    }
    docs = {f["name"]: f["doc"] for f in schema["fields"]}
    assert docs["user_id"] == "deid: encrypt" and docs["date"] == "deid: date_shift"
    required = anonymised_schema(domain("channel"), policy, required_fields={"user_id", "date"})
    assert fields_of(required)["user_id"] == "string" and fields_of(required)["tv_show"] == ["null", "string"]
    assert anonymised_schema(domain("channel"), policy) == schema  # deterministic: same policy, same schema


def test_numbers_keep_their_type_unless_replaced_by_strings() -> None:
    movie = domain("movie")
    policy = Policy.from_yaml(
        "domain: movie\nrules:\n"
        "  price: {treatment: generalize, params: {kind: number_bucket, size: 5}}\n"
        "  card_number: {treatment: mask}\n"
    )
    assert fields_of(anonymised_schema(movie, policy)) == {
        "price": ["null", "double"],
        "card_number": ["null", "string"],
    }
    mobile = Policy.from_yaml("domain: mobile\nrules:\n  duration: {treatment: encrypt}\n")
    assert fields_of(anonymised_schema(domain("mobile"), mobile)) == {"duration": ["null", "string"]}
    assert output_types(
        Policy.from_yaml("domain: mobile\nrules:\n  duration: {treatment: keep}\n").rules["duration"], "int"
    ) == ["int"]


def test_consent_rules_give_unions_and_the_redaction_flag() -> None:
    schema = anonymised_schema(domain("profile"), Policy.from_yaml(PROFILE_POLICY))
    fields = fields_of(schema)
    assert fields["dob"] == ["null", "string"]
    assert fields["data_share_consent"] == ["null", "boolean"]
    assert schema["fields"][-1] == {
        "name": "data_redacted",
        "type": "boolean",
        "default": False,
        "doc": "deid: redacted",
    }
    doc = {f["name"]: f["doc"] for f in schema["fields"]}["dob"]
    assert doc == "deid: keep or redact (by consent)"
    mixed = Policy.from_yaml(
        "domain: clickstream\nrules:\n  consent_level:\n    with_consent: {treatment: keep}\n"
        "    without_consent: {treatment: redact}\n  ip_address:\n    with_consent: {treatment: keep}\n"
        "    without_consent: {treatment: drop}\n"
    )
    mixed_fields = fields_of(anonymised_schema(domain("clickstream"), mixed, required_fields={"consent_level"}))
    assert mixed_fields == {"ip_address": ["null", "string"], "consent_level": ["int", "string"]}


def test_purpose_schemas() -> None:
    policy = Policy.from_yaml(CLICKSTREAM_POLICY)
    schema = anonymised_schema(domain("clickstream"), policy, purpose="recommender")
    assert schema["name"] == "clickstream_recommender"
    assert list(fields_of(schema)) == ["user_id", "email", "page_url"]
    with pytest.raises(DeidError, match="has no purpose 'nope'"):
        anonymised_schema(domain("clickstream"), policy, purpose="nope")


def test_nested_schema_records_and_arrays() -> None:
    schema = anonymised_schema(nested_domain(), Policy.from_yaml(NESTED_POLICY))
    fastavro.parse_schema(schema)
    fields = fields_of(schema)
    assert list(fields) == ["order_id", "customer", "items", "tags"]
    customer = fields["customer"][1]
    assert customer["type"] == "record" and [f["name"] for f in customer["fields"]] == ["id", "address"]
    items = fields["items"][1]
    assert items["type"] == "array" and items["items"][1]["type"] == "record"
    assert {f["name"]: f["type"] for f in items["items"][1]["fields"]}["price"] == ["null", "double"]
    assert fields["tags"] == ["null", {"type": "array", "items": ["null", "string"]}]


def test_required_fields_from_a_raw_schema() -> None:
    raw = {
        "type": "record",
        "name": "raw",
        "fields": [
            {"name": "user_id", "type": "string"},
            {"name": "date", "type": ["null", "string"]},
            {"name": "price", "type": "double"},
        ],
    }
    assert required_fields_of(raw) == {"user_id", "price"}


def test_encode_confluent_wire_format_round_trip(keystore: Keystore) -> None:
    for name, text, records in [
        (
            "channel",
            CHANNEL_POLICY,
            [
                {
                    "channel_name": "Fox",
                    "tv_show": "Barry",
                    "tv_show_type": "Comedy",
                    "date": "12-10-2020",
                    "user_id": "user-12345",
                }
            ],
        ),
        (
            "profile",
            PROFILE_POLICY,
            [
                {
                    "name": "Ann",
                    "dob": "1980-01-02",
                    "gender": "f",
                    "ssn_no": "1",
                    "data_share_consent": flag,
                    "evnt_time": "2024-06-15T10:11:12+0000",
                }
                for flag in (True, False)
            ],
        ),
    ]:
        policy = Policy.from_yaml(text)
        schema = anonymised_schema(domain(name), policy)
        plan = compile_policy(policy, domain(name), keystore)
        encoder = ConfluentAvroEncoder(schema, schema_id=258)
        for record in records:
            treated = plan.apply(record)
            data = encoder.encode(treated)
            assert data[0] == 0 and int.from_bytes(data[1:5], "big") == 258
            schema_id, decoded = decode_confluent(data, schema)
            assert schema_id == 258 and decoded == {f["name"]: treated.get(f["name"]) for f in schema["fields"]}
            body = fastavro.schemaless_reader(io.BytesIO(data[5:]), fastavro.parse_schema(schema))
            assert body == decoded


def test_nested_records_encode(keystore: Keystore) -> None:
    policy = Policy.from_yaml(NESTED_POLICY)
    schema = anonymised_schema(nested_domain(), policy)
    treated = compile_policy(policy, nested_domain(), keystore).apply(
        {"order_id": "o", "customer": {"id": "c", "address": None}, "items": [{"sku": "A", "price": 3}], "tags": []}
    )
    _, decoded = decode_confluent(ConfluentAvroEncoder(schema, 1).encode(treated), schema)
    assert decoded["items"] == [{"sku": "A", "price": 0.0, "bought": None}] and decoded["customer"]["address"] is None


def test_encode_error_names_the_field_not_the_value() -> None:
    schema = anonymised_schema(domain("channel"), Policy.from_yaml(CHANNEL_POLICY), required_fields={"user_id"})
    encoder = ConfluentAvroEncoder(schema, 7)
    with pytest.raises(AvroEncodeError) as info:
        encoder.encode({"user_id": 12345678, "date": "x"})
    assert "12345678" not in str(info.value) and "user_id" in str(info.value)
    with pytest.raises(ValueError, match="not Confluent-framed"):
        decode_confluent(b"\x01\x00", schema)
