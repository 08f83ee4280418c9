"""Entity-level scoring: matching rules and the arithmetic of precision, recall and F1."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from recognizers.evaluation import (
    ALL,
    ANY,
    Counts,
    count_entity,
    f_beta,
    result_spans,
    score_spans,
    score_table,
    token_scores,
)


def test_overlap_and_exact_matching() -> None:
    gold = [(0, 14, "PERSON")]
    assert count_entity(gold, [(4, 14, "PERSON")]) == Counts(tp=1, fp=0, fn=0)
    assert count_entity(gold, [(4, 14, "PERSON")], mode="exact") == Counts(tp=0, fp=1, fn=1)
    assert count_entity(gold, [(14, 20, "PERSON")]) == Counts(tp=0, fp=1, fn=1)  # touching is not overlapping
    # One prediction cannot match two labels; duplicates count once.
    assert count_entity([(0, 4, "P"), (5, 9, "P")], [(0, 9, "P"), (0, 9, "P")]) == Counts(tp=1, fp=0, fn=1)


def test_per_entity_scores_and_micro_average() -> None:
    examples = [
        ([(0, 5, "PERSON"), (10, 20, "PHONE_NUMBER")], [(0, 5, "PERSON"), (10, 20, "PHONE_NUMBER")]),
        ([(0, 5, "PERSON")], [(0, 5, "LOCATION"), (30, 40, "PHONE_NUMBER")]),
        ([], [(1, 3, "NL_BSN")]),
    ]
    scores = score_spans(examples)
    assert set(scores) == {"PERSON", "PHONE_NUMBER", ALL}  # evaluated: entities present in the labels
    assert scores["PERSON"] == Counts(tp=1, fp=0, fn=1)
    assert scores["PHONE_NUMBER"] == Counts(tp=1, fp=1, fn=0)
    assert scores[ALL] == Counts(tp=2, fp=1, fn=1)
    assert scores["PHONE_NUMBER"].precision == 0.5 and scores["PHONE_NUMBER"].recall == 1.0
    assert scores["PHONE_NUMBER"].f1 == pytest.approx(2 / 3)
    with_bsn = score_spans(examples, entities=["NL_BSN"])
    assert with_bsn["NL_BSN"] == Counts(tp=0, fp=1, fn=0)
    assert with_bsn["NL_BSN"].as_dict() == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 0, "support": 0,
    }  # fmt: skip
    assert score_table(with_bsn)[0] == ["NL_BSN", 0.0, 0.0, 0.0, 0, 1, 0]


def test_result_spans_apply_the_score_threshold() -> None:
    results = [RecognizerResult("PHONE_NUMBER", 0, 9, 0.3), RecognizerResult("USER_ID", 10, 20, 0.85)]
    assert result_spans(results, min_score=0.35) == [(10, 20, "USER_ID")]


def test_token_scores_binary_and_per_entity() -> None:
    text = "Call Anna Berg on 0612 345678 today"
    gold = [(5, 14, "PERSON"), (18, 29, "PHONE_NUMBER")]
    # "Anna" read as a place, "Berg" missed, the phone found under another entity name, "today" a date.
    predicted = [(5, 9, "LOCATION"), (18, 29, "IMEI"), (30, 35, "DATE_TIME")]
    scores = token_scores([(text, gold, predicted)], entities=("PERSON", "PHONE_NUMBER"))
    assert (scores[ANY].tp, scores[ANY].fp, scores[ANY].fn) == (3, 1, 1)
    assert (scores["PERSON"].tp, scores["PERSON"].fn) == (0, 2)
    assert scores["PHONE_NUMBER"].fn == 2
    aliased = token_scores([(text, gold, predicted)], entities=("PHONE_NUMBER",), aliases={"IMEI": "PHONE_NUMBER"})
    assert aliased["PHONE_NUMBER"].tp == 2
    assert round(f_beta(0.5, 1.0), 4) == round(5 * 0.5 / (4 * 0.5 + 1.0), 4)
