"""The bench runner's command line: listing, unknown names, bad options."""

from __future__ import annotations

import subprocess
import sys

from tests.benchmarks.__main__ import discover
from tests.conftest import REPO, deid_env


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", *args],
        cwd=REPO,
        env=deid_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_bench_module_declares_name_description_and_run() -> None:
    for name, module in discover().items():
        assert name == module.NAME and module.DESCRIPTION and callable(module.run)


def test_help_and_list_exit_zero() -> None:
    assert bench("--help").returncode == 0
    listed = bench("--list")
    assert listed.returncode == 0
    for name in discover():
        assert name in listed.stdout


def test_unknown_bench_is_an_error_naming_it() -> None:
    result = bench("no-such-bench")
    assert result.returncode == 2
    assert "unknown benchmark no-such-bench" in result.stderr


def test_non_positive_scale_is_refused() -> None:
    result = bench("--scale", "0")
    assert result.returncode == 2
    assert "--scale" in result.stderr
