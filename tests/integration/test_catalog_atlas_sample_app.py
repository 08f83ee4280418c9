"""Apache Atlas's own Python sample app (../shared/reference/atlas-sample-app, unmodified) runs from start
to end against a fresh catalog with the official `apache-atlas` client, the way its README says:
`python sample_client.py` in its folder, answering the URL / user / password prompts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.catalog_support import CatalogServer, PostgresCluster, start_catalog
from tests.conftest import REPO

# A worktree beside the checkout can point at the shared folder with ATLAS_SAMPLE_APP_DIR.
SAMPLE_APP = Path(os.environ.get("ATLAS_SAMPLE_APP_DIR", REPO.parent / "shared" / "reference" / "atlas-sample-app"))
# The sample logs through `logging` without configuring it; this shows its INFO lines and runs it unchanged.
RUNNER = (
    "import logging, runpy, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout); "
    "sys.argv = ['sample_client.py']; runpy.run_path('sample_client.py', run_name='__main__')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogServer]:
    database = None
    if request.param == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database = cluster.create_database(f"sample_{tmp_path.name[-12:].lower().replace('-', '_')}")
    server = start_catalog(tmp_path / "catalog", database)
    try:
        yield server
    finally:
        server.stop()


def _run_sample(catalog: CatalogServer) -> subprocess.CompletedProcess[str]:
    assert (SAMPLE_APP / "sample_client.py").is_file(), f"the Atlas sample app is missing at {SAMPLE_APP}"
    return subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=f"{catalog.url}\nadmin\n{catalog.admin_password}\n",
        cwd=SAMPLE_APP,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},  # shared/ is read-only in CI
        start_new_session=True,  # no controlling terminal: getpass reads the password from stdin
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_atlas_sample_app_runs_unmodified(fresh_catalog: CatalogServer) -> None:
    run = _run_sample(fresh_catalog)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    # The sample catches and logs every failure itself: a clean run has no ERROR line and no traceback.
    assert "ERROR:" not in output and "Traceback" not in output, output[-6000:]
    for expected in (
        "Created database entity: guid=",
        "Created US table entity: guid=",
        "Created process entity: guid=",
        "query: 'from DataSet' retrieved:",
        "Quick-search result:",
        "Basic-search result:",
        "Created glossary with name: EmployeeCountry",
        "Created Term for Employee Salary: EmpSalaryTerm",
        "Created Category for Employee Category: EmpSalaryCategory",
        "Delete is complete for Glossary!",
        "Purged entities",
    ):
        assert expected in output, f"{expected!r} missing from the sample's output:\n{output[-6000:]}"
    assert "Failed to create" not in output and "Purge failed" not in output

    # What the sample left behind: its types, no entities (deleted, then purged), no glossary.
    http = fresh_catalog.http("admin")
    base = f"{fresh_catalog.url}/api/atlas/v2"
    table_def = http.get(f"{base}/types/entitydef/name/sample_table").json()
    assert "tableType" in {a["name"] for a in table_def["attributeDefs"]}
    bm = http.get(f"{base}/types/typedef/name/sample_bm").json()
    assert bm["attributeDefs"][0]["options"]["maxStrLength"] == "50"  # a number, kept as Atlas keeps it
    for type_name, qualified_name in (
        ("sample_db", "employee_db@cl1"),
        ("sample_table", "employee_db.employees_us@cl1"),
    ):
        gone = http.get(
            f"{base}/entity/uniqueAttribute/type/{type_name}", params={"attr:qualifiedName": qualified_name}
        )
        assert gone.status_code == 404, gone.text
    assert http.get(f"{base}/glossary").json() == []
    purged = http.get(f"{fresh_catalog.url}/api/deid/v1/audit", params={"action": "ENTITY_PURGE"})
    assert purged.status_code == 200, purged.text
    assert {e["typeName"] for e in purged.json()["events"]} >= {"sample_db", "sample_table", "sample_process"}
