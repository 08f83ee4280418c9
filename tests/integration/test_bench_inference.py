"""The inference benchmark still runs (tiny counts, its own broker and Spark, in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, deid_env

pytestmark = pytest.mark.kafka


def test_bench_inference_quick_writes_its_figures(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "inference", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        env=deid_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((tmp_path / "inference.json").read_text())
    assert (result["quick"], result["events_small"], result["events_large"]) == (True, 2000, 10000)
    assert result["seconds_small"] > 0 and result["seconds_large"] > 0
    assert result["ratio_large_to_small"] == round(result["seconds_large"] / result["seconds_small"], 2)
    assert result["profiler_records_per_s_one_core"] > 0
    assert "time ratio" in run.stdout
