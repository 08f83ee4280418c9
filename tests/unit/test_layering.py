"""The import direction holds for the project (run by ./scripts/test), and the checker catches each kind of
violation in a throw-away package tree."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO
from tests.layering import PACKAGES, violations


def test_the_project_keeps_the_import_direction() -> None:
    problems = violations(REPO)
    assert problems == [], "\n".join(problems)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(text))
    return root


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "deid/settings.py": "import os\nCONFIG = os.environ.get('DEID_CONFIG')\n",
            "deid/domains.py": "from deid.settings import CONFIG\n",
            "catalog/client.py": "from deid.domains import CONFIG\n",
            "pipelines/worker.py": "from catalog.client import CONFIG\n",
            "deid/cli/main.py": "from pipelines.worker import CONFIG\n\n"
            "def run():\n    # start-up: heavy, loaded when the command runs\n    from schema_inference import x\n",
        },
    )
    assert violations(root) == []


def test_a_library_importing_the_shell_is_refused(tmp_path: Path) -> None:
    shell, library = "deid/cli/output.py", "schema_inference/summary.py"
    root = _tree(tmp_path, {shell: "X = 1\n", library: "from deid.cli.output import X\n"})
    (problem,) = violations(root)
    assert problem.startswith("schema_inference.summary:1: schema_inference imports deid.cli.output (shell)")


def test_the_core_importing_a_library_and_libraries_of_one_layer_are_refused(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"deid/kafka.py": "import catalog.client\n", "catalog/client.py": "from recognizers import engine\n"},
    )
    problems = violations(root)
    assert any(p.startswith("deid.kafka:1: core imports catalog.client (catalog)") for p in problems), problems
    assert any(p.startswith("catalog.client:1: catalog imports recognizers (recognizers)") for p in problems), problems


def test_a_cycle_is_refused_even_when_one_side_is_function_local(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pipelines/a.py": "from pipelines.b import B\nA = 1\n",
            "pipelines/b.py": "B = 2\n\ndef f():\n    # start-up: (not true, but the cycle is still a cycle)\n"
            "    from pipelines.a import A\n    return A\n",
        },
    )
    assert violations(root) == ["import cycle: pipelines.a -> pipelines.b; break it by moving the shared part"]


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pipelines/a.py": "from pipelines.b import B\n",
            "pipelines/b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pipelines.a import A\nB = 1\n",
        },
    )
    assert violations(root) == []


def test_a_function_local_import_needs_its_start_up_reason(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"pipelines/a.py": "def f():\n    from deid import errors\n    return errors\n", "deid/errors.py": ""},
    )
    (problem,) = violations(root)
    assert problem.startswith("pipelines.a:2: function-local import of deid.errors")


def test_settings_and_the_environment_are_read_only_by_the_shell(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "deid/settings.py": "def load_settings():\n    return 1\n",
            "pipelines/t.py": "from deid.settings import load_settings\nS = load_settings()\n",
            "recognizers/r.py": "import os\nX = os.getenv('DEID_NLP_ENGINE')\n",
            "deid/cli/run.py": "import os\nfrom deid.settings import load_settings\nS = load_settings(os.environ)\n",
        },
    )
    assert violations(root) == [
        "pipelines.t:1: load_settings below the shell; take the settings as an argument",
        "pipelines.t:2: load_settings below the shell; take the settings as an argument",
        "recognizers.r:2: os.getenv below the shell; take the settings as an argument",
    ]


def test_the_checker_runs_as_a_script_and_fails_on_a_violation(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"producers/p.py": "import deid.demo.flow\n", "deid/demo/flow.py": ""})
    run = subprocess.run(
        [sys.executable, str(REPO / "tests" / "layering.py"), str(root)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1 and "producers.p:1: producers imports deid.demo.flow (shell)" in run.stdout
    script = str(REPO / "tests" / "layering.py")
    ok = subprocess.run([sys.executable, script, str(REPO)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
