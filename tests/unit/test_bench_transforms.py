"""The transforms benchmark still runs (quick counts) and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import bench_transforms
from tests.benchmarks.common import BenchContext, write_result


def test_bench_transforms_quick(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, quick=True)
    result = bench_transforms.run(ctx)
    path = write_result(ctx, bench_transforms.NAME, result)
    written = json.loads(path.read_text())
    assert written["bench"] == "transforms" and written["events"] == 500
    for key in (
        "keep_all_apply_rps",
        "channel_policy_apply_rps",
        "channel_subject_keys_apply_rps",
        "avro_encode_rps",
        "fast_fernet_encrypt_rps",
    ):
        assert written[key] > 0
    assert 0 < written["deid_vs_keep_path_ratio"] <= 1.5


def test_bench_events_look_like_channel_events() -> None:
    events = [json.loads(line) for line in bench_transforms.channel_events(50)]
    assert {tuple(sorted(e)) for e in events} == {("channel_name", "date", "tv_show", "tv_show_type", "user_id")}
    assert all(e["user_id"].startswith("user-") for e in events)
