"""The fast analysis path (recognizers.fast, recognizers.prefilter, the engine's lemma and keyword shortcuts)
never changes what Presidio's own path finds: same results, same scores, same recognizers, same order."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from presidio_analyzer import RecognizerResult

from deid.domains import load_registry
from deid.settings import Settings
from recognizers import analyze_values, build_analyzer
from recognizers.analyzer import DeidAnalyzerEngine, _engine_choice
from recognizers.engine import LANGUAGE, OfflineSpacyNlpEngine
from recognizers.prefilter import Need, can_match, pattern_needs
from tests.benchmarks.bench_text import memo_events
from tests.eval.generator import labelled_texts

SHORT = [
    "",
    "Barry",
    "user-48213",
    "+49 30 901820",
    "374658169983957",
    "23-08-2020",
    "lena.smit@example.nl",
    "no digits and no at sign here, Anna Schmidt of Utrecht",
    "call ٠٦١٢٣٤٥٦٧٨ today",  # Arabic-Indic digits: still digits to the filter
    "Her IBAN is NL91ABNA0417164300, card 4111-1111-1111-1111, born 3 March 1984 at 10:30",
    "http://example.org/a?b=c and 192.168.0.1 and 00:1A:2B:3C:4D:5E",
]


@cache
def engines() -> tuple[DeidAnalyzerEngine, DeidAnalyzerEngine]:
    """deid's analyzer (fast) and one on the same registry with Presidio's own path and a spaCy lemmatizer."""
    fast = build_analyzer(Settings())
    reference_nlp = OfflineSpacyNlpEngine(_engine_choice(Settings().nlp_engine), fast=False)
    reference_nlp.load()
    reference = DeidAnalyzerEngine(
        registry=fast.registry, nlp_engine=reference_nlp, supported_languages=[LANGUAGE], fast=False
    )
    return fast, reference


@cache
def texts() -> list[str]:
    dev = [text for text, _ in labelled_texts(250, 20240, "dev")]
    memos = [event["text"] for event in memo_events(load_registry(Settings()).get("memo"), 150, seed=5)]
    return SHORT + dev + memos


def summary(results: list[RecognizerResult]) -> list[tuple[Any, ...]]:
    return [
        (r.entity_type, r.start, r.end, r.score, (r.recognition_metadata or {}).get("recognizer_name")) for r in results
    ]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"score_threshold": 0.35},
        {"entities": ["PERSON", "PHONE_NUMBER", "IBAN_CODE"]},
        {"context": ["phone", "number"]},
    ],
    ids=["all", "threshold", "entities", "context"],
)
def test_fast_path_equals_presidios_path(options: dict[str, Any]) -> None:
    fast, reference = engines()
    got = analyze_values(fast, texts(), **options)
    want = analyze_values(reference, texts(), **options)
    assert len(got) == len(want) == len(texts())
    for text, mine, theirs in zip(texts(), got, want, strict=True):
        assert summary(mine) == summary(theirs), text[:60]
    assert sum(map(len, got)) > 1000  # the comparison is not vacuous


def test_one_call_per_text_equals_presidios_path() -> None:
    fast, reference = engines()
    for text in SHORT + texts()[-20:]:
        assert summary(fast.analyze(text, language=LANGUAGE)) == summary(reference.analyze(text, language=LANGUAGE))


def test_lemmas_and_keywords_equal_the_lemmatizers() -> None:
    fast, reference = engines()
    sample = texts()[:120]
    mine = [a for _, a in fast.nlp_engine.process_batch(sample, language=LANGUAGE)]
    theirs = [a for _, a in reference.nlp_engine.process_batch(sample, language=LANGUAGE)]
    assert "lemmatizer" not in fast.nlp_engine.nlp[LANGUAGE].pipe_names  # taken over
    for a, b in zip(mine, theirs, strict=True):
        assert a.lemmas == b.lemmas and a.keywords == b.keywords


def test_a_skipped_recognizer_would_have_found_nothing() -> None:
    fast, _ = engines()
    skipped = 0
    entities = fast.get_supported_entities(LANGUAGE)
    for text in texts():
        artifacts = fast.nlp_engine.process_text(text, LANGUAGE)
        for recognizer in fast.registry.recognizers:
            if not can_match(recognizer, frozenset(text)):
                skipped += 1
                assert not recognizer.analyze(text=text, entities=entities, nlp_artifacts=artifacts), recognizer.name
    assert skipped > 100


@pytest.mark.parametrize(
    ("regex", "needs"),
    [
        (r"\b\d{3}-\d{2}\b", [Need(digit=True), Need(chars=frozenset("-")), Need(digit=True)]),
        (r"[\w.]+@[\w.]+", [Need(chars=frozenset("@"))]),
        (r"(?:\d{4}|[./]{2})", [Need(digit=True, chars=frozenset("./"))]),
        (r"(?:\d|x)", []),  # a letter branch: nothing known
        (r"[^0-9]+", []),
        (r"\d?", []),
        (r"(?=\w*@)\w+", [Need(chars=frozenset("@"))]),  # a lookahead's content is in the text
        (r"(?!\d)\w+", []),
        (r"(?:abc){e<=1}", []),  # the regex module's fuzzy matching: never guessed at
        (r"(unbalanced", []),
    ],
)
def test_pattern_needs(regex: str, needs: list[Need]) -> None:
    assert pattern_needs(regex) == needs
