"""analyze_values: the batch path gives each value what a single analyze() call gives it."""

from __future__ import annotations

import logging

import pytest
from presidio_analyzer import RecognizerResult

from deid.settings import Settings
from recognizers import MIN_SCORE, analyze_values, build_analyzer

VALUES = [
    "user-48213",
    "Barry",
    "+49 30 901820",
    "374658169983957",
    "user-48213",
    "23-08-2020",
    "lena.smit@example.nl",
    "",
    "Barry",
    "422338035",
]


def summary(results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def test_batch_equals_one_call_per_value() -> None:
    analyzer = build_analyzer(Settings(), engine="blank")
    batched = analyze_values(analyzer, VALUES, batch_size=4)
    assert len(batched) == len(VALUES)
    for value, results in zip(VALUES, batched, strict=True):
        assert summary(results) == summary(analyzer.analyze(value, language="en")), value
    assert {r.entity_type for r in batched[0]} == {"USER_ID"}
    assert batched[1] == [] and batched[7] == []


def test_field_name_words_act_as_context() -> None:
    analyzer = build_analyzer(Settings(), engine="blank")
    plain, with_field_name = (analyze_values(analyzer, ["422338035"], context=c)[0] for c in (None, ["bsn"]))
    score = {r.entity_type: r.score for r in plain}
    boosted = {r.entity_type: r.score for r in with_field_name}
    assert score["NL_BSN"] < MIN_SCORE <= boosted["NL_BSN"]


def test_entities_filter_and_non_string_values() -> None:
    analyzer = build_analyzer(Settings(), engine="blank")
    results = analyze_values(analyzer, [12345, "user-12345 +49 30 901820"], entities=["USER_ID"])
    assert results[0] == []
    assert {r.entity_type for r in results[1]} == {"USER_ID"}


def test_analysing_values_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """Presidio logs an INFO line per analyze() call without `entities`; a worker would log per record."""
    analyzer = build_analyzer(Settings(), engine="blank")
    with caplog.at_level("DEBUG"):
        analyzer.analyze("Call +49 30 901820", language="en")
        analyze_values(analyzer, VALUES)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
