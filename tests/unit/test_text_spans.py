"""pipelines.transforms.text_spans gives exactly Presidio's AnonymizerEngine output (replace and redact)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import RecognizerResult
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from pipelines.transforms import text_spans

ENGINE = AnonymizerEngine()
ENTITIES = ["PERSON", "LOCATION", "PHONE_NUMBER"]
OPERATORS = {"replace": OperatorConfig("replace", {}), "redact": OperatorConfig("redact", {})}


def presidio(text: str, results: list[RecognizerResult], operator: str) -> str:
    return ENGINE.anonymize(text, results, {"DEFAULT": OPERATORS[operator]}).text


@st.composite
def text_and_results(draw: st.DrawFn) -> tuple[str, list[RecognizerResult]]:
    # Few characters and few entity types, so that overlaps, equal spans, touching spans and
    # space-separated neighbours of one type are all common.
    text = draw(st.text(alphabet="ab  .-", min_size=0, max_size=30))
    spans = st.tuples(st.integers(0, len(text)), st.integers(0, len(text))).map(sorted)
    entries = draw(
        st.lists(st.tuples(spans, st.sampled_from(ENTITIES), st.sampled_from([0.3, 0.5, 0.85, 1.0])), max_size=8)
    )
    results = [RecognizerResult(entity, start, end, score) for (start, end), entity, score in entries if end > start]
    return text, results


@settings(max_examples=800, deadline=None)
@given(case=text_and_results(), operator=st.sampled_from(["replace", "redact"]))
def test_same_text_as_presidio_on_random_spans(case: tuple[str, list[RecognizerResult]], operator: str) -> None:
    text, results = case
    before = [(r.start, r.end, r.entity_type, r.score) for r in results]
    assert text_spans.anonymize(text, results, operator) == presidio(text, results, operator)  # type: ignore[arg-type]
    assert [(r.start, r.end, r.entity_type, r.score) for r in results] == before  # inputs untouched


def test_known_cases() -> None:
    text = "Call Anna Maria Smit on 0612345678 today"
    results = [
        RecognizerResult("PERSON", 5, 9, 0.85),
        RecognizerResult("PERSON", 10, 15, 0.85),  # one space apart: merged
        RecognizerResult("PERSON", 16, 20, 0.6),
        RecognizerResult("PHONE_NUMBER", 24, 34, 0.75),
        RecognizerResult("US_BANK_NUMBER", 24, 34, 0.4),  # same span, lower score: dropped
        RecognizerResult("DATE_TIME", 26, 30, 0.9),  # contained: dropped
    ]
    assert text_spans.anonymize(text, results) == "Call <PERSON> on <PHONE_NUMBER> today"
    assert text_spans.anonymize(text, results, "redact") == "Call  on  today"
    assert text_spans.anonymize(text, []) == text


def test_a_span_outside_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        text_spans.anonymize("short", [RecognizerResult("PERSON", 2, 9, 0.9)])
