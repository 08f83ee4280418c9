"""`scripts/train-ner` is reproducible: the same seed and options write the same bytes, whatever the
process's PYTHONHASHSEED (issue 24: the model and the data shipped are reproducible by scripts/train-ner)."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY = ["--train-docs", "120", "--dev-docs", "30", "--test-docs", "30", "--max-epochs", "1", "--quiet"]


def _train(out: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "recognizers.ner.train", "--out", str(out), "--seed", "11", *TINY]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_two_trainings_write_identical_models(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    _train(first, "1")
    _train(second, "977")
    names = _files(first)
    assert "meta.json" in names and any(name.startswith("ner/") for name in names)
    assert names == _files(second)
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert not mismatch and not errors
