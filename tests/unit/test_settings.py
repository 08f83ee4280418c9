from __future__ import annotations

from pathlib import Path

import pytest

from deid.kafka import client_config
from deid.settings import Settings, SettingsError, load_settings, parse_bootstrap


def test_defaults() -> None:
    settings = load_settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.bootstrap_out == "127.0.0.1:9092"
    assert settings.catalog_url == "http://127.0.0.1:21000"
    assert settings.registry_url == "http://127.0.0.1:21000/registry"
    assert settings.data_dir == Path(".deid")
    assert settings.kafka_install_dir == Path(".deid/kafka")
    assert settings.cluster == "eu"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KAFKA_BOOTSTRAP", "broker-a:9092,broker-b:9093")
    monkeypatch.setenv("DEID_KAFKA_BOOTSTRAP_OUT", "anon:9092")
    monkeypatch.setenv("DEID_CATALOG_URL", "https://catalog.example:8443/")
    monkeypatch.setenv("DEID_DATA_DIR", "/var/lib/deid")
    monkeypatch.setenv("DEID_CLUSTER", "prod-eu")
    settings = load_settings()
    assert settings.bootstrap_out == "anon:9092"
    assert settings.catalog_url == "https://catalog.example:8443"
    assert settings.registry_url == "https://catalog.example:8443/registry"
    assert settings.kafka_install_dir == Path("/var/lib/deid/kafka")
    assert settings.cluster == "prod-eu"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEID_KAFKA_BOOTSTRAP", "no-port", "host:port"),
        ("DEID_KAFKA_BOOTSTRAP", "host:99999", "ports 1-65535"),
        ("DEID_KAFKA_BOOTSTRAP_OUT", "a:1,,b:2", "host:port"),
        ("DEID_CATALOG_URL", "ftp://catalog", "http:// or https:// URL"),
        ("DEID_SCHEMA_REGISTRY_URL", "registry", "http:// or https:// URL"),
        ("DEID_CLUSTER", "EU West", "lower-case"),
        ("DEID_KAFKA_CONTROLLER_PORT", "seventy", "integer"),
        ("DEID_LOG_LEVEL", "chatty", "DEBUG, INFO"),
    ],
)
def test_wrong_value_names_variable_and_expectation(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert variable in message
    assert expected in message


def test_url_values_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_CATALOG_URL", "ftp://admin:hunter2-secret@catalog")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "hunter2-secret" not in str(info.value)


def test_unknown_variable_is_an_error_with_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KAFKA_BOOTSRAP", "x:1")
    with pytest.raises(SettingsError, match=r"DEID_KAFKA_BOOTSRAP \(did you mean DEID_KAFKA_BOOTSTRAP\?\)"):
        load_settings()


def test_config_file_values_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text(
        "kafka_bootstrap: file-broker:9092\n"
        "cluster: from-file\n"
        "kafka_properties:\n"
        "  security.protocol: SASL_SSL\n"
        "  sasl.mechanism: PLAIN\n"
        "  sasl.username: deid\n"
        "  sasl.password: not-a-real-password\n"
        "  enable.ssl.certificate.verification: true\n"
        "kafka_properties_out:\n"
        "  sasl.username: deid-out\n"
    )
    monkeypatch.setenv("DEID_CONFIG", str(config))
    monkeypatch.setenv("DEID_CLUSTER", "from-env")
    settings = load_settings()
    assert settings.kafka_bootstrap == "file-broker:9092"
    assert settings.cluster == "from-env"  # environment wins over the file

    raw = client_config(settings, "raw")
    out = client_config(settings, "out", **{"client.id": "t"})
    assert raw["bootstrap.servers"] == "file-broker:9092"
    assert raw["security.protocol"] == "SASL_SSL"
    assert raw["enable.ssl.certificate.verification"] == "true"
    assert raw["sasl.username"] == "deid"
    assert out["sasl.username"] == "deid-out"  # out side overrides
    assert out["sasl.password"] == "not-a-real-password"  # shared properties reach both sides
    assert out["client.id"] == "t"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("kafka_bootsrap: x:1\n", "unknown key 'kafka_bootsrap' in config file (did you mean 'kafka_bootstrap'?)"),
        ("kafka_properties:\n  bootstrap.servers: x:1\n", "DEID_CONFIG key 'kafka_properties'"),
        ("kafka_properties:\n  Not A Property: 1\n", "is not a Kafka client property name"),
        ("kafka_properties: [1, 2]\n", "expected a mapping"),
        ("cluster: eu\n  bad: indent: x\nlog_level: INFO\n", "not valid YAML at line 2"),
        ("- just\n- a list\n", "must hold a mapping"),
    ],
)
def test_bad_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, expected: str) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text(body)
    monkeypatch.setenv("DEID_CONFIG", str(config))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)


def test_secret_property_value_not_in_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text("kafka_properties:\n  sasl.password: {nested: s3cr3t-value}\n")
    monkeypatch.setenv("DEID_CONFIG", str(config))
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "s3cr3t-value" not in str(info.value)
    assert "sasl.password" in str(info.value)


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEID_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsError, match=r"DEID_CONFIG: config file .*nope\.yaml does not exist"):
        load_settings()


def test_parse_bootstrap() -> None:
    assert parse_bootstrap("a:1, b:2,[::1]:9092") == [("a", 1), ("b", 2), ("::1", 9092)]
    with pytest.raises(ValueError):
        parse_bootstrap("a:0")


def test_client_config_rejects_unknown_side() -> None:
    with pytest.raises(ValueError, match="side"):
        client_config(Settings(), "sideways")  # type: ignore[arg-type]
