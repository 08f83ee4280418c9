"""The CLI as a user runs it: `python -m deid …` in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import click
import pytest

from deid.cli import COMMANDS, cli
from tests.conftest import deid_env, run_deid

GROUPS = [
    "catalog",
    "config",
    "demo",
    "domains",
    "infer",
    "keys",
    "pipeline",
    "produce",
    "reidentify",
    "stack",
    "subject",
    "tail",
    "topics",
]


def test_help_lists_command_groups() -> None:
    result = run_deid("--help")
    assert result.returncode == 0
    for group in GROUPS:
        assert f"\n  {group} " in result.stdout


def test_console_script_is_installed() -> None:
    deid = shutil.which("deid", path=str(Path(os.sys.executable).parent))
    assert deid is not None
    result = run_deid("--version")
    assert result.returncode == 0 and "deid, version" in result.stdout


def _all_commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, ctx, (*prefix, name))


def test_every_command_has_help() -> None:
    ctx = click.Context(cli)
    paths = [path for path, _ in _all_commands(cli, ctx)]
    assert len(paths) >= len(COMMANDS)
    for path in paths:
        result = run_deid(*path, "--help")
        assert result.returncode == 0, (path, result.stderr)
        assert "Usage: deid " + " ".join(path) in result.stdout


def test_bad_setting_fails_at_start_with_exit_2() -> None:
    result = run_deid("topics", "list", env=deid_env(DEID_KAFKA_BOOTSTRAP="nonsense"))
    assert result.returncode == 2
    assert "DEID_KAFKA_BOOTSTRAP" in result.stderr and "host:port" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_works_with_bad_settings() -> None:
    result = run_deid("stack", "--help", env=deid_env(DEID_KAFKA_BOOTSTRAP="nonsense"))
    assert result.returncode == 0


def test_unknown_command_is_a_usage_error() -> None:
    result = run_deid("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_topics_create_needs_domain_or_all() -> None:
    result = run_deid("topics", "create")
    assert result.returncode == 2
    assert "give --domain D (one or more) or --all" in result.stderr


def test_topics_create_unknown_domain() -> None:
    result = run_deid("topics", "create", "--domain", "nope")
    assert result.returncode == 2
    assert "unknown domain 'nope'; known domains: channel" in result.stderr


def test_config_shows_settings_and_hides_secrets(tmp_path: Path) -> None:
    config = tmp_path / "deid.yaml"
    config.write_text(
        "kafka_properties:\n  sasl.password: very-secret-1\n  security.protocol: SASL_SSL\n"
        "catalog_url: http://user:pw-secret-2@catalog:21000\n"
    )
    keystore = "postgresql+psycopg://deid:pw-secret-3@db:5432/keys"
    env = deid_env(DEID_CONFIG=str(config), DEID_CLUSTER="west", DEID_KEYSTORE_URL=keystore)
    result = run_deid("config", "--json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["cluster"] == "west" and shown["keystore_url"] == "postgresql+psycopg://***@db:5432/keys"
    assert shown["kafka_properties"] == {"sasl.password": "***", "security.protocol": "SASL_SSL"}
    assert shown["schema_registry_url"] == "http://***@catalog:21000/registry"
    assert "very-secret-1" not in result.stdout and "pw-secret-2" not in result.stdout
    assert "pw-secret-3" not in result.stdout


def test_domains_commands() -> None:
    listed = run_deid("domains", "list")
    assert listed.returncode == 0
    assert "clickstream" in listed.stdout and "consent_level" in listed.stdout
    shown = run_deid("domains", "show", "profile")
    body = json.loads(shown.stdout)
    assert body["consent"]["kind"] == "boolean"
    assert body["topics"]["dlq"] == "profile-dlq"
    missing = run_deid("domains", "show", "nope")
    assert missing.returncode == 2 and "known domains" in missing.stderr


def test_unreachable_broker_fails_fast() -> None:
    env = deid_env(DEID_KAFKA_BOOTSTRAP="127.0.0.1:1")
    result = run_deid("topics", "list", env=env, timeout=60)
    assert result.returncode == 1
    assert "Kafka at 127.0.0.1:1 (DEID_KAFKA_BOOTSTRAP) did not answer" in result.stderr


@pytest.mark.parametrize("args", [["tail", "x", "--max", "0"], ["topics", "create", "--all", "-p", "0"]])
def test_option_ranges(args: list[str]) -> None:
    result = run_deid(*args)
    assert result.returncode == 2


def test_errors_no_command_named_still_say_what_failed_and_what_to_do() -> None:
    from confluent_kafka import KafkaError, KafkaException

    from deid.cli import unexpected_error_line

    kafka = unexpected_error_line(KafkaException(KafkaError(KafkaError._TRANSPORT, "broker down")))
    assert kafka.startswith("Kafka refused or failed (_TRANSPORT: broker down)") and "DEID_KAFKA_BOOTSTRAP" in kafka
    missing = unexpected_error_line(FileNotFoundError(2, "No such file or directory", "/nowhere/x.yaml"))
    assert missing == "No such file or directory: /nowhere/x.yaml; fix the path or its permissions and run again"
    assert "DEID_CATALOG_URL" in unexpected_error_line(ConnectionRefusedError(111, "refused"))
    bug = unexpected_error_line(ValueError("secret-value-123"))
    assert "secret-value-123" not in bug and "ValueError" in bug and "DEID_LOG_LEVEL=DEBUG" in bug
    assert "internal error" not in bug
