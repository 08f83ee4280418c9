"""The privacy benchmark still runs (quick counts) and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import bench_privacy
from tests.benchmarks.common import BenchContext, write_result


def test_bench_privacy_quick(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, quick=True)
    written = json.loads(write_result(ctx, bench_privacy.NAME, bench_privacy.run(ctx)).read_text())
    assert written["bench"] == "privacy" and written["events"] == 300
    for key in ("encrypt_fernet_apply_rps", "encrypt_deterministic_apply_rps", "encrypt_fpe_apply_rps",
                "risk_observe_rps", "profile_apply_rps"):  # fmt: skip
        assert written[key] > 0
    assert written["risk_window_overhead_ratio"] >= 1 and written["min_k_profile"] >= 1
