"""docker-compose.yml is valid against the Compose specification and runs only real deid commands."""

from __future__ import annotations

import json
import shlex
import tomllib

import click
import jsonschema
import pytest
import yaml

from deid.cli import cli
from deid.domains import load_registry
from tests.conftest import REPO

SPEC = REPO.parent / "shared" / "reference" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_validates_against_spec(compose: dict) -> None:
    assert SPEC.is_file(), f"Compose specification missing at {SPEC}"
    schema = json.loads(SPEC.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_compose_has_the_services(compose: dict) -> None:
    services = compose["services"]
    assert {"kafka", "spark-master", "spark-worker", "catalog", "init-topics", "init-keys", "producer"} <= set(services)
    workers = {name.removeprefix("pipeline-") for name in services if name.startswith("pipeline-")}
    assert workers == set(load_registry().names), "one worker service per domain"
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for name in ("kafka", "spark-master", "catalog", "producer"):
        assert "healthcheck" in services[name], name


def test_every_service_runs_the_projects_own_image(compose: dict) -> None:
    """One service builds deid:latest from ./Dockerfile, every other but MinIO runs it; with
    docker-compose.local.yml MinIO is built from this project too, so no registry is needed."""
    services = compose["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["kafka"], builders
    assert {service["image"] for service in services.values()} == {"deid:latest", "minio/minio:latest"}
    local = yaml.safe_load((REPO / "docker-compose.local.yml").read_text())["services"]
    assert set(local) == {name for name, s in services.items() if s["image"] == "minio/minio:latest"}
    for service in local.values():  # the override builds MinIO here: no upstream image left
        assert service["image"] != "minio/minio:latest" and service["build"]["dockerfile"] == "docker/minio/Dockerfile"
    args = services["kafka"]["build"]["args"]
    assert args["BASE_IMAGE"].startswith("${DEID_BASE_IMAGE:-debian:bookworm")
    assert "ARG BASE_IMAGE" in (REPO / "Dockerfile").read_text()


def test_health_checks_run_on_podman(compose: dict) -> None:
    """podman's Docker API splits a CMD health check's arguments at spaces (`python -c "import x; …"` breaks),
    and compose refuses start_interval for engines older than Docker 25."""
    for name, service in compose["services"].items():
        assert "start_interval" not in (service.get("healthcheck") or {}), name
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] == "CMD":
            assert all(" " not in arg for arg in test[1:]), f"{name}: {test}"


def _readme_block() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text[text.index("<!-- scripts/test-compose runs the block below") :]
    block = block[block.index("```bash\n") + len("```bash\n") :]
    return block[: block.index("```")].splitlines()


def test_readme_compose_block_is_what_test_compose_runs(compose: dict) -> None:
    lines = _readme_block()
    assert lines[-1] == "docker compose down -v", "scripts/test-compose runs `down -v` itself, after its checks"
    assert any("kafka-console-consumer" in line for line in lines)
    assert any("deid tail channel-anonymised-data" in line for line in lines)
    assert any(line.startswith("docker compose exec spark-master deid infer") for line in lines)
    for line in lines:
        words = line.strip().split()
        if words[:3] == ["docker", "compose", "exec"]:
            assert words[3] in compose["services"], f"README runs `{line.strip()}`: no service {words[3]}"


def _commands(compose: dict) -> list[tuple[str, list[str]]]:
    found = []
    for name, service in compose["services"].items():
        candidates = [service.get("command"), service.get("entrypoint")]
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] == "CMD":
            candidates.append(test[1:])
        for command in candidates:
            if command:
                argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
                if argv[0] == "deid":
                    found.append((name, argv[1:]))
    return found


def _check_cli_accepts(args: list[str]) -> None:
    """Resolve the command path and parse its options, as click would when run."""
    command: click.Command = cli
    name = "deid"
    while isinstance(command, click.Group):
        assert args, f"`{name}` needs a subcommand"
        sub = command.get_command(click.Context(command), args[0])
        assert sub is not None, f"`{name} {args[0]}` is not a deid command"
        name, command, args = f"{name} {args[0]}", sub, args[1:]
    command.make_context(name, list(args))


def test_every_deid_command_in_compose_exists(compose: dict) -> None:
    commands = _commands(compose)
    assert commands, "compose runs no deid command"
    for service, args in commands:
        try:
            _check_cli_accepts(args)
        except click.ClickException as exc:
            pytest.fail(f"service {service}: `deid {' '.join(args)}`: {exc.format_message()}")


def test_checker_catches_a_missing_command() -> None:
    with pytest.raises(AssertionError, match="not a deid command"):
        _check_cli_accepts(["no-such-group", "run"])
    with pytest.raises(click.ClickException):
        _check_cli_accepts(["topics", "create", "--no-such-option"])


def test_dockerfile_copies_every_package() -> None:
    """The image installs deid from the copied folders: a package pyproject.toml ships must be among them."""
    include = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    dockerfile = (REPO / "Dockerfile").read_text()
    for pattern in include:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}\n" in dockerfile, f"Dockerfile does not copy {package}/"
