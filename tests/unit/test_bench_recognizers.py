"""The recognizers bench runs end to end (quick counts), and its hand-written labelled set is well formed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.bench_recognizers import TRICKY, load_tricky
from tests.conftest import REPO, deid_env


def test_tricky_set_spans_are_well_formed() -> None:
    labelled = load_tricky(TRICKY)
    assert len(labelled) >= 50
    for text, spans in labelled:
        ends = 0
        for start, end, entity in sorted(spans):
            value = text[start:end]
            assert start >= ends and 0 <= start < end <= len(text), (text, spans)
            assert value == value.strip() and value, (text, value)
            assert entity.isupper(), entity
            ends = end
    near_misses = [text for text, spans in labelled if not spans]
    assert any("Barry" in text for text in near_misses) and any("Andi Mack" in text for text in near_misses)


def test_bench_runs_quick_and_writes_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "recognizers", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        env=deid_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "recognizers.json").read_text())
    tricky = result["accuracy"]["tricky"]["per_entity"]
    assert {"ALL", "USER_ID", "CUSTOM_CREDIT_CARD", "EU_VAT", "PHONE_NUMBER", "PERSON"} <= set(tricky)
    assert tricky["USER_ID"]["support"] >= 1 and 0.0 <= tricky["ALL"]["f1"] <= 1.0
    speed = result["speed"][result["engine"]["kind"]]
    for what in ("short_values", "memos"):
        assert speed[what]["single_call_tps"] > 0 and speed[what]["analyze_values_tps"] > 0
    assert "entity" in done.stdout and "texts/s" in done.stdout
