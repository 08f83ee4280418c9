"""Pure parts of the catalog: value checks, the DSL parser, search operators, the steward rule,
password hashing, and the catalog settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.server.bootstrap import bootstrap_definitions
from catalog.server.classifications import merge_update
from catalog.server.dsl import DslParser
from catalog.server.errors import AtlasError
from catalog.server.passwords import generate_password, hash_password, verify_password
from catalog.server.search import matches
from catalog.server.typesystem import TypeRegistry
from deid.settings import SettingsError, load_settings


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return TypeRegistry(bootstrap_definitions())


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("int", "42", 42), ("int", 7.0, 7), ("long", 2**40, 2**40), ("double", "0.5", 0.5), ("boolean", "TRUE", True),
        ("string", 12, "12"), ("date", 1700000000000, 1700000000000), ("array<string>", ["a", 1], ["a", "1"]),
        ("map<string,int>", {"a": "1"}, {"a": 1}), ("deid_tag_status", "confirmed", "confirmed"),
        ("deid_tag_source", 1, "steward"),
    ],
)  # fmt: skip
def test_values_are_checked_and_normalised(registry: TypeRegistry, type_name: str, value: Any, expected: Any) -> None:
    assert registry.check_value(type_name, value, "t.a") == expected


@pytest.mark.parametrize(
    ("type_name", "value", "message"),
    [
        ("int", "seven", "expected an integer"), ("int", 2**40, "an integer in"), ("int", 1.5, "an integer"),
        ("int", True, "an integer"), ("double", float("nan"), "finite"), ("double", "x", "a number"),
        ("boolean", "yes", "true or false"), ("string", {"a": 1}, "a string"), ("array<int>", 3, "a list"),
        ("map<string,int>", [1], "a map"), ("deid_tag_status", "maybe", "suggested, confirmed, rejected"),
    ],
)  # fmt: skip
def test_bad_values_name_the_attribute_and_type(
    registry: TypeRegistry, type_name: str, value: Any, message: str
) -> None:
    with pytest.raises(AtlasError) as error:
        registry.check_value(type_name, value, "kafka_topic.partitionCount")
    assert error.value.code.code == "ATLAS-400-00-028"
    assert "kafka_topic.partitionCount" in error.value.message and message in error.value.message


def test_registry_resolves_inheritance_and_relationships(registry: TypeRegistry) -> None:
    field = registry.entity_type("avro_field")
    assert field is not None
    assert {"avro_type", "DataSet", "Asset", "Referenceable"} == field.all_super_types
    assert field.unique_attributes == ["qualifiedName"]
    assert {"record", "type", "inputToProcesses"} <= set(field.relationship_attributes)
    assert registry.relationship_attribute(field, "record", "avro_schema").relationship == "avro_record_fields"
    assert registry.is_a("deid_pipeline", "Process") and not registry.is_a("deid_policy", "DataSet")
    pii = registry.classification_type("deid_PII")
    assert pii is not None and {"PERSON", "FREE_TEXT", "USER_ID", "NL_BSN"} <= pii.all_sub_types
    assert "NON_PII" not in pii.all_sub_types
    person = registry.classification_type("PERSON")
    assert person is not None and set(person.attributes) == {"confidence", "source", "status", "evidence", "note"}


def test_cyclic_supertypes_are_refused() -> None:
    docs = [
        {"category": "ENTITY", "name": "A", "superTypes": ["B"], "attributeDefs": []},
        {"category": "ENTITY", "name": "B", "superTypes": ["A"], "attributeDefs": []},
    ]
    with pytest.raises(AtlasError, match="circular"):
        TypeRegistry(docs)


class _View:
    def __init__(self, attributes: dict[str, Any], tags: set[str]) -> None:
        self.attributes, self.tags, self.record = attributes, tags, None

    def attribute(self, name: str) -> Any:
        return self.attributes.get(name)


@pytest.mark.parametrize(
    ("query", "attributes", "tags", "expected"),
    [
        ('avro_field where name = "email"', {"name": "email"}, set(), True),
        ("avro_field where name = 'email' and doc != 'x'", {"name": "email", "doc": "y"}, set(), True),
        ('avro_field where name like "e*l"', {"name": "email"}, set(), True),
        ('avro_field where name like "E*"', {"name": "email"}, set(), False),
        ('avro_field where (name = "a" or name = "b") and has doc', {"name": "b"}, set(), False),
        ("avro_field isa PII", {}, {"EMAIL_ADDRESS"}, True),
        ("avro_field where avro_field isa PERSON", {}, {"EMAIL_ADDRESS"}, False),
        ('avro_field where name = "say \\"hi\\""', {"name": 'say "hi"'}, set(), True),
    ],
)
def test_dsl_predicates(
    registry: TypeRegistry, query: str, attributes: dict[str, Any], tags: set[str], expected: bool
) -> None:
    parsed = DslParser(query, registry).parse()
    assert parsed.predicate(_View(attributes, tags)) is expected


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "ATLAS-400-00-059"), ("avro_field where", "ATLAS-400-00-059"), ("avro_field name", "ATLAS-400-00-059"),
        ("avro_field where name ~ 'x'", "ATLAS-400-00-059"), ("avro_field where name = x", "ATLAS-400-00-059"),
        ("avro_field limit -1", "ATLAS-400-00-059"), ("avro_field select name", "ATLAS-400-00-059"),
        ("nothing", "ATLAS-400-00-05B"), ("avro_field where colour = 1", "ATLAS-400-00-05D"),
        ("avro_field isa NOTHING", "ATLAS-400-00-05C"), ("avro_field where name = 'x' @", "ATLAS-400-00-059"),
    ],
)  # fmt: skip
def test_dsl_errors(registry: TypeRegistry, query: str, code: str) -> None:
    with pytest.raises(AtlasError) as error:
        DslParser(query, registry).parse()
    assert error.value.code.code == code


@pytest.mark.parametrize(
    ("operator", "actual", "expected", "result"),
    [
        ("=", 3, "3", True), ("<", 2, "10", True), ("lt", "b", "a", False), (">=", 0.5, 0.5, True),
        ("startsWith", "Channel", "chan", True), ("ends_with", "x.csv", ".CSV", True),
        ("contains", ["a", "bc"], "b", True),
        ("not_contains", "abc", "z", True), ("in", "b", "a, b", True), ("like", "user_42", "user_??", True),
        ("isNull", None, None, True), ("notNull", "", None, False), ("!=", None, "x", True), ("=", True, "true", True),
    ],
)  # fmt: skip
def test_search_operators(operator: str, actual: Any, expected: Any, result: bool) -> None:
    assert matches(operator, actual, expected) is result


def test_unknown_operator_is_refused() -> None:
    with pytest.raises(AtlasError, match="unknown search operator"):
        matches("~", "a", "b")


def test_steward_rule() -> None:
    decided = {"status": "rejected", "source": "steward", "confidence": 0.7, "evidence": "old", "note": "TV titles"}
    detection = {"status": "suggested", "source": "detected", "confidence": 0.9, "evidence": "new"}
    assert merge_update(decided, detection) == {**decided, "evidence": "new"}
    suggested = {"status": "suggested", "source": "detected", "confidence": 0.7}
    assert merge_update(suggested, detection) == {**suggested, **detection}
    steward_change = {"status": "confirmed", "source": "steward"}
    assert merge_update(decided, steward_change)["status"] == "confirmed"


def test_passwords() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "md5$1$2$3$a$b")
    assert hash_password("same") != hash_password("same")  # salted
    assert len(generate_password()) >= 20


def test_catalog_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.catalog_mode == "embedded" and settings.catalog_user is None
    assert settings.catalog_db_url == f"sqlite:///{(tmp_path / 'catalog' / 'catalog.db').resolve()}"
    assert settings.admin_password_file == tmp_path / "catalog" / "admin-password"
    monkeypatch.setenv("DEID_CATALOG_MODE", "prod")
    with pytest.raises(SettingsError, match=r"DEID_CATALOG_MODE.*'embedded' or 'production'"):
        load_settings()
    monkeypatch.setenv("DEID_CATALOG_MODE", "production")
    monkeypatch.setenv("DEID_CATALOG_DB", "oracle://scott:tiger-secret@db/x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "DEID_CATALOG_DB" in str(error.value) and "tiger-secret" not in str(error.value)
    monkeypatch.setenv("DEID_CATALOG_DB", "postgresql://u:p@db/catalog")
    monkeypatch.setenv("DEID_ADMIN_PASSWORD", "admin-secret-7")
    monkeypatch.setenv("DEID_CATALOG_USER", "bad user!")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "DEID_CATALOG_USER" in str(error.value) and "admin-secret-7" not in str(error.value)
    monkeypatch.setenv("DEID_CATALOG_USER", "steward@example.org")
    settings = load_settings()
    assert settings.catalog_mode == "production" and settings.catalog_db_url == "postgresql://u:p@db/catalog"
    assert "admin-secret-7" not in repr(settings) and settings.admin_password.get_secret_value() == "admin-secret-7"


def test_error_renderers_by_prefix(tmp_path: Path) -> None:
    from fastapi.responses import JSONResponse
    from fastapi.testclient import TestClient

    from catalog.server.app import create_app
    from catalog.server.errors import register_error_renderer

    app = create_app(load_settings(data_dir=tmp_path))
    register_error_renderer(app, "/", lambda status, message: JSONResponse({"page": message}, status_code=status))
    register_error_renderer(
        app, "/elsewhere", lambda status, message: JSONResponse({"error_code": status * 100 + 1}, status_code=status)
    )
    client = TestClient(app)
    assert client.get("/elsewhere/subjects").json() == {"error_code": 40401}
    assert "page" in client.get("/nothing").json()
    assert client.get("/api/atlas/v2/nothing").json()["errorCode"] == "ATLAS-404-00-004"
