"""The independent field-level evaluation set: deterministic, complete, and sharing no string with what
builds or trains deid (producers/, the NER lexicon and templates)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.benchmarks.field_eval import EVAL_FILE, FieldResult, load_datasets, score

REPO = Path(__file__).resolve().parents[2]


def test_the_set_is_deterministic_and_every_field_is_built_and_labelled() -> None:
    first, again = load_datasets(), load_datasets()
    assert [d.records[:50] for d in first] == [d.records[:50] for d in again]
    for dataset in first:
        assert set(dataset.records[0]) == set(dataset.gold), dataset.name
        assert dataset.subject in dataset.gold and dataset.event_time in dataset.gold
        assert all(dataset.gold.values())


def test_no_vocabulary_string_appears_in_generators_or_training_sources() -> None:
    vocab = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))["vocab"]
    distinctive = ("given", "family", "person_like_titles", "plain_titles", "teams", "stations", "sites", "streets")
    strings = {s for key in distinctive for s in vocab[key]}  # not the plain words (legal, phone, quiz)
    sources = [*(REPO / "producers").rglob("*.py"), *(REPO / "recognizers" / "ner").rglob("*.py")]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    assert sources and not sorted(s for s in strings if s in text)


def test_scores_count_fields_and_the_binary_view() -> None:
    rows = [
        FieldResult("d", "a", {"PERSON"}, "PERSON", "NON_PII", None, ""),
        FieldResult("d", "b", {"NON_PII"}, "PERSON", "NON_PII", None, ""),
        FieldResult("d", "c", {"EVENT_TIME"}, "DATE_TIME", "DATE_TIME", None, ""),
    ]
    got = score(rows, "structural")
    assert (got["accuracy"], got["tp"], got["fp"], got["fn"]) == (round(1 / 3, 3), 2, 1, 0)
    assert score(rows, "analyzer_only")["fn"] == 1
