"""The pipeline benchmark still runs (quick counts, one round) and reports every figure issues 9 and 23 ask for."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import bench_pipeline
from tests.benchmarks.common import BenchContext, CpuSampler, write_result


def test_bench_pipeline_quick(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, quick=True)
    result = bench_pipeline.run(ctx)
    written = json.loads(write_result(ctx, bench_pipeline.NAME, result).read_text())
    assert written["bench"] == "pipeline" and written["events"] == 1000
    for mode in bench_pipeline.MODES:
        assert written[f"{mode}_eps"] > 0, mode
        assert written["cpu_us_per_event_by_mode"][mode] > 0, mode
        assert written["peak_rss_mb_by_mode"][mode] > 0, mode
        assert written["vs_kafka_copy"][mode] == round(written[f"{mode}_eps"] / written["kafka_copy_eps"], 3)
    assert {"kafka_copy", "decode_encode", "deid_x2"} <= set(bench_pipeline.MODES)
    assert written["vs_kafka_copy"]["kafka_copy"] == 1.0 and written["vs_kafka_copy_cpu"]["kafka_copy"] == 1.0
    assert written["worker_peak_rss_mb"] > 0 and written["subjects"] > 0
    assert set(written["eps_by_round"]) == set(bench_pipeline.MODES)
    assert written["deid_vs_passthrough"] == round(written["deid_eps"] / written["passthrough_eps"], 3)
    assert written["deid_x2_vs_deid_eos"] == round(written["deid_x2_eps"] / written["deid_eos_eps"], 3)
    broker = written["broker_cpu_us_per_event_by_mode"]
    assert set(broker) == set(bench_pipeline.MODES) - {"decode_encode"} and min(broker.values()) >= 0
    per_event = written["cpu_us_per_event_by_mode"]["deid_x2"] + broker["deid_x2"]
    assert written["deid_x2_ceiling_eps"] == round(written["cores"] * 1e6 / per_event, 1)


def test_broker_cpu_between_two_times_comes_from_the_samples_around_them() -> None:
    sampler = CpuSampler(0)
    sampler._samples = [(10.0, 1.0), (10.5, 1.2), (11.0, 1.9), (11.5, 2.0)]
    assert sampler.between(10.6, 11.2) == 2.0 - 1.2  # from the sample before the start to the one after the end
    assert sampler.between(9.0, 20.0) == 1.0


def test_two_workers_combine_into_one_rate() -> None:
    parts = [
        {"records": 600, "first": 10.0, "ended": 12.0, "cpu_seconds": 1.0, "peak_rss_mb": 90.0, "eps": 300.0},
        {"records": 400, "first": 10.5, "ended": 14.0, "cpu_seconds": 0.5, "peak_rss_mb": 95.0, "eps": 114.3},
    ]
    combined = bench_pipeline.combine("deid_x2", parts)
    assert combined["records"] == 1000 and combined["seconds"] == 4.0 and combined["eps"] == 250.0
    assert combined["cpu_us_per_event"] == 1500.0 and combined["peak_rss_mb"] == 95.0


def test_a_worker_without_records_does_not_stretch_the_combined_time() -> None:
    parts = [
        {"records": 1000, "first": 10.0, "ended": 12.0, "cpu_seconds": 1.0, "peak_rss_mb": 90.0, "eps": 500.0},
        {"records": 0, "first": 5.0, "ended": 5.0, "cpu_seconds": 0.0, "peak_rss_mb": 80.0, "eps": 0.0},
    ]
    assert bench_pipeline.combine("deid_x2", parts)["eps"] == 500.0
