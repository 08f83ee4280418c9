"""The NER bench runs (quick counts) and writes its figures: per-label scores and docs/s."""

from __future__ import annotations

import json
from pathlib import Path

from recognizers.ner import LABELS
from tests.benchmarks.__main__ import main


def test_ner_bench_quick_run_writes_scores_and_speed(tmp_path: Path) -> None:
    assert main(["ner", "--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "ner.json").read_text())
    ours = result["deid_ner"]
    assert set(ours["heldout"]) == {*LABELS, "ALL"}
    assert ours["heldout"]["PERSON"]["support"] > 0
    assert ours["speed"]["single_docs_per_s"] > 0 and ours["speed"]["pipe_docs_per_s"] > 0
    other = result["en_core_web"]
    assert other.get("installed") is False or set(other["heldout"]) == {*LABELS, "ALL"}
