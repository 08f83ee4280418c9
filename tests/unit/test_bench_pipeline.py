"""The pipeline benchmark still runs (quick counts, one round) and reports every figure issue 9 asks for."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import bench_pipeline
from tests.benchmarks.common import BenchContext, write_result


def test_bench_pipeline_quick(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, quick=True)
    result = bench_pipeline.run(ctx)
    written = json.loads(write_result(ctx, bench_pipeline.NAME, result).read_text())
    assert written["bench"] == "pipeline" and written["events"] == 1000
    keys = ("passthrough_eps", "deid_eps", "deid_subject_keys_eps", "deid_subject_keys_cold_eps", "naive_eps")
    for key in (*keys, "worker_peak_rss_mb", "subjects"):
        assert written[key] > 0, key
    assert set(written["eps_by_round"]) == set(bench_pipeline.MODES)
    assert written["deid_vs_passthrough"] == round(written["deid_eps"] / written["passthrough_eps"], 3)
