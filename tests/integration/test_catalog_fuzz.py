"""API fuzzing: schemathesis generates valid and invalid requests for every operation of the
catalog's OpenAPI spec (bounded examples per operation, fixed seed) and no answer may be a 5xx.
Runs against a fresh server per backend, so the fuzzer's writes touch no other test's data:
25 examples per operation on PostgreSQL (the stricter store: NUL bytes, integer ranges), 10 on SQLite."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.catalog_support import CatalogServer, PostgresCluster, start_catalog

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
USER_PATHS = r"/api/deid/v1/users/"


def _fuzz(
    server: CatalogServer, workdir: Path, examples: int, user: str, password: str, *selection: str
) -> tuple[int, str]:
    command = [
        SCHEMATHESIS, "run", f"{server.url}/openapi.json",
        "--checks", "not_a_server_error",
        "--max-examples", str(examples), "--seed", "20240601", "--workers", "2",
        "--phases", "fuzzing", "--generation-with-security-parameters", "false",
        "--generation-database", "none", "--request-timeout", "60",
        "--auth", f"{user}:{password}", "--no-color", *selection,
    ]  # fmt: skip
    # cwd: schemathesis keeps a .schemathesis/ cache in its working directory; not in the repo.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, cwd=workdir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated is not None, output[-3000:]
    assert generated.group(1) == generated.group(2)
    return int(generated.group(1)), output


@pytest.mark.parametrize(("backend", "examples"), [("postgresql", 25), ("sqlite", 10)])
def test_fuzzing_finds_no_server_error(
    backend: str, examples: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = None
    if backend == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database = cluster.create_database(f"fuzz_{uuid.uuid4().hex[:8]}")
    server = start_catalog(tmp_path, database)
    try:
        # Everything but user changes, as the admin (user changes could lock the fuzzer out)…
        cases, output = _fuzz(
            server, tmp_path, examples, "admin", server.admin_password, "--exclude-path-regex", USER_PATHS
        )
        assert cases >= 20 * examples and "Authentication failed" not in output
        # …then user management, as an admin of its own.
        user, password = "fuzz-admin", "fuzz-password-1"
        server.http("admin").post(
            f"{server.url}/api/deid/v1/users", json={"name": user, "password": password, "role": "admin"}
        ).raise_for_status()
        cases, _ = _fuzz(server, tmp_path, examples, user, password, "--include-path-regex", USER_PATHS)
        assert cases >= examples
    finally:
        server.stop()
