"""recognizers.pool: helper processes share a batch and give the same findings; a failed helper costs speed only."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from deid.domains import load_registry
from deid.settings import Settings
from recognizers import analyze_values, build_analyzer
from recognizers.pool import AnalysisPool
from tests.benchmarks.bench_text import memo_events
from tests.eval.generator import labelled_texts


def summary(results: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 9)) for r in results)


@pytest.fixture(scope="module")
def pool() -> Any:
    pool = AnalysisPool(Settings(), 2, analyze_values)
    assert pool.wait_ready() == 1
    yield pool
    pool.close()


def test_helpers_share_the_batch_and_find_the_same(pool: AnalysisPool) -> None:
    analyzer = build_analyzer(Settings())
    texts = [t for t, _ in labelled_texts(80, 20240, "dev")]
    texts += [e["text"] for e in memo_events(load_registry(Settings()).get("memo"), 80, seed=9)]
    options = {"score_threshold": 0.35, "batch_size": 32}
    local = analyze_values(analyzer, texts, **options)
    shared = pool(analyzer, texts, **options)
    assert pool.shared > 0  # the helper did take a share
    assert [summary(r) for r in shared] == [summary(r) for r in local]
    names = {(r.recognition_metadata or {}).get("recognizer_name") for found in shared for r in found}
    assert "SpacyRecognizer" in names  # the recognizer's name travels back (drop_shadowed needs it)


def test_a_small_batch_stays_local(pool: AnalysisPool) -> None:
    before = pool.shared
    analyzer = build_analyzer(Settings())
    assert summary(pool(analyzer, ["Anna Smit, +31 6 12345678"])[0]) == summary(
        analyze_values(analyzer, ["Anna Smit, +31 6 12345678"])[0]
    )
    assert pool.shared == before


def test_a_dead_helper_costs_speed_not_findings(caplog: pytest.LogCaptureFixture) -> None:
    analyzer = build_analyzer(Settings())
    pool = AnalysisPool(Settings(), 2, analyze_values)
    try:
        assert pool.wait_ready() == 1
        pool._helpers[0].process.kill()
        pool._helpers[0].process.wait()
        texts = [f"Call Maria Rossi on +39 06 6982 {i:04d} about the visit to Roma." for i in range(40)]
        with caplog.at_level(logging.WARNING, logger="deid.recognizers"):
            got = pool(analyzer, texts)
        assert [summary(r) for r in got] == [summary(r) for r in analyze_values(analyzer, texts)]
        assert all(found for found in got)
        assert "text helper 1" in caplog.text and "Maria" not in caplog.text and "Rossi" not in caplog.text
        assert pool._helpers[0].failed
        again = pool(analyzer, texts)  # later batches run locally, without waiting for the dead helper
        assert [summary(r) for r in again] == [summary(r) for r in got]
    finally:
        pool.close()
