"""The training entry point: a tiny run into a temporary folder, reproducible by seed, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recognizers.ner import LABELS, load_model, model_available
from recognizers.ner.train import main
from tests.conftest import REPO, deid_env

TINY = ["--train-docs", "150", "--dev-docs", "40", "--test-docs", "40", "--max-epochs", "2"]
TINY += ["--embed-size", "300", "--width", "16", "--depth", "1", "--quiet"]


def test_a_tiny_training_run_writes_a_loadable_model_with_its_scores(tmp_path: Path) -> None:
    out, metrics = tmp_path / "model", tmp_path / "metrics.json"
    assert main([*TINY, "--seed", "3", "--out", str(out), "--metrics-json", str(metrics)]) == 0
    assert model_available(out)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["name"] == "deid_ner" and set(meta["labels"]["ner"]) == set(LABELS)
    assert meta["deid"]["training"]["seed"] == 3 and meta["deid"]["training"]["train_docs"] == 150
    assert set(meta["performance"]["heldout"]) == {*LABELS, "ALL"}
    assert set(json.loads(metrics.read_text())) == {"dev", "heldout"}
    nlp = load_model(out)
    assert nlp.pipe_names == ["ner", "lemmatizer"]
    assert nlp("Anna Nowak lives in Kraków.").text == "Anna Nowak lives in Kraków."


def test_the_same_seed_trains_the_same_weights_in_any_process(tmp_path: Path) -> None:
    """Two processes with different hash seeds (set and dict order) build byte-identical models."""
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "recognizers.ner.train", *TINY, "--seed", "5", "--out", str(tmp_path / hash_seed)],
            cwd=REPO,
            env=deid_env(PYTHONHASHSEED=hash_seed),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    for part in ("ner/model", "ner/moves", "vocab/strings.json"):
        assert (tmp_path / "1" / part).read_bytes() == (tmp_path / "2" / part).read_bytes(), part


def test_a_folder_that_is_not_a_model_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not a model folder"):
        main([*TINY, "--out", str(tmp_path)])
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_bad_options_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--train-docs", "0"])
    assert raised.value.code == 2
    assert "--train-docs must be at least 1" in capsys.readouterr().err


def test_script_help_documents_the_rebuild() -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "train-ner"), "--help"],
        cwd=REPO,
        env=deid_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--seed" in result.stdout and "held-out" in result.stdout
