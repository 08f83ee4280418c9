"""./scripts/demo as a user runs it, on its own data dir and ports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_deid, stack_env

pytestmark = pytest.mark.kafka


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "demo")], env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def test_demo_round_trip_and_rerun(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    try:
        first = _demo(env)
        assert first.returncode == 0, first.stderr[-3000:]
        round_trip = json.loads(first.stdout.strip().splitlines()[-1])
        assert round_trip["topic"] == "deid-stack-check" and len(round_trip["value"]["probe"]) == 32
        assert "channel-raw-data             created" in first.stdout
        assert "deid stack down" in first.stderr

        second = _demo(env)  # resumes cleanly: everything already there
        assert second.returncode == 0, second.stderr[-3000:]
        assert "already running" in second.stdout and "created" not in second.stdout
    finally:
        run_deid("stack", "down", env=env)


def test_demo_failure_names_the_step(tmp_path: Path) -> None:
    env = stack_env(tmp_path, DEID_KAFKA_BOOTSTRAP="kafka.example:9092")
    result = _demo(env)
    assert result.returncode != 0
    assert "demo failed at step: stack up" in result.stderr
    assert "only listens on loopback" in result.stderr
