"""No evaluation, demo or test string sits in deid's training data or its title lexicon (issue 24 item 1).

What counts as leakage here: a TV/film title of the demo, the producers, the tests or the independent
set (tests/eval) in the NER lexicon's negative lists, or written unlabelled into the training corpus (that
would teach the "Barry is a show" answer by heart); a document shape, a rendered full name or a street of
the independent set anywhere in the training corpus. A title that is also a given name ("Barry") may
still occur in training as a labelled PERSON: that pushes against the demo's answer, never towards it.
A one-word title that is an ordinary English word ('Dark') may occur as that word.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import yaml

from producers.channel import SHOWS
from producers.memo_templates import CLOSINGS, MIDDLES, OPENINGS
from producers.movie import MOVIES
from recognizers.gazetteers import dictionary_words
from recognizers.ner import lexicon, templates_dev, templates_heldout, templates_train
from recognizers.ner.corpus import build_corpus
from tests.eval.generator import labelled_texts, vocabulary
from tests.eval.templates import DOCUMENTS

REPO = Path(__file__).resolve().parents[2]
TITLE_LISTS = {name: getattr(lexicon, name) for name in dir(lexicon) if "_TV_" in name or "FILMS" in name}
SLOT = re.compile(r"\{[A-Za-z0-9_]+\}")


def _word(text: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(text) + r"(?!\w)")


@cache
def reserved_titles() -> frozenset[str]:
    titles = {show for _, show, _ in SHOWS} | {movie for movie, _ in MOVIES}
    seed = REPO / "deid" / "demo" / "channel_seed_events.jsonl"
    titles |= {json.loads(line)["tv_show"] for line in seed.read_text().splitlines() if line.strip()}
    titles |= set(vocabulary()["tv_titles"])
    field_eval = yaml.safe_load((REPO / "tests" / "data" / "fields" / "field_eval.yaml").read_text(encoding="utf-8"))
    titles |= {
        t for key in ("person_like_titles", "plain_titles", "teams", "stations") for t in field_eval["vocab"][key]
    }
    return frozenset(titles)


@cache
def sources_of_tests() -> str:
    sources = [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").rglob("*.py"))]
    sources += [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").rglob("*.jsonl"))]
    return "\n".join(sources)


@cache
def training_corpus() -> tuple[tuple[str, tuple[tuple[int, int, str], ...]], ...]:
    docs = build_corpus("train", 1500, 7) + build_corpus("dev", 300, 7)
    return tuple((text, tuple(spans)) for text, spans in docs)


def test_lexicon_titles_are_no_demo_producer_eval_or_test_titles() -> None:
    reserved = reserved_titles()
    sources = sources_of_tests()
    assert {"Barry", "Andi Mack", "Hannibal", "Karen Pirie", "Father Brown"} <= reserved
    for name, titles in TITLE_LISTS.items():
        assert not set(titles) & reserved, name
        quoted = [t for t in titles if f'"{t}"' in sources or (_word(t).search(sources) and len(t.split()) > 1)]
        assert not quoted, f"{name}: {quoted} appear in the tests"


def test_reserved_titles_are_never_unlabelled_training_text() -> None:
    # A one-word title that is an ordinary English word ("Dark") may occur as that word: English text
    # cannot do without it, and a capitalised "Dark" in a list teaches nothing about a show.
    ordinary = dictionary_words()
    titles = sorted(t for t in reserved_titles() if not (" " not in t and t.lower() in ordinary))
    assert "Barry" in titles and "Andi Mack" in titles
    patterns = [(title, _word(title)) for title in titles]
    for text, spans in training_corpus():
        for title, pattern in patterns:
            for match in pattern.finditer(text):
                labelled = any(s <= match.start() and match.end() <= e for s, e, _ in spans)
                assert labelled, f"{title!r} unlabelled in a training document: {text!r}"


def _fragments(templates: tuple[str, ...]) -> set[str]:
    """Literal text between slots, normalised, keeping pieces long enough to be a phrasing (4+ words)."""
    pieces = {" ".join(p.lower().split()) for t in templates for p in SLOT.split(t)}
    return {p.strip(" ,.;:!?-") for p in pieces if len(p.split()) >= 4}


def test_eval_document_shapes_share_no_phrasing_with_training_or_memo_templates() -> None:
    ours = _fragments(DOCUMENTS)
    assert len(ours) > 30
    theirs = (
        " || ".join(
            " ".join(t.lower().split())
            for module in (templates_train, templates_dev, templates_heldout)
            for group in (module.SENTENCES, module.OPENERS, module.CLOSERS, module.FIELDS)
            for t in group
        )
        + " || "
        + " || ".join(" ".join(t.lower().split()) for t in (*OPENINGS, *MIDDLES, *CLOSINGS))
    )
    shared = sorted(fragment for fragment in ours if fragment in theirs)
    assert not shared


def test_eval_names_titles_and_streets_are_not_in_the_training_corpus() -> None:
    full_names = {
        text[s:e] for text, spans in labelled_texts(600, 20240) for s, e, kind in spans
        if kind == "PERSON" and len(text[s:e].split()) >= 2
    }  # fmt: skip
    streets = {row.split("|")[1] for row in vocabulary()["streets"]}
    wanted = full_names | streets | set(vocabulary()["tv_titles"])
    assert len(full_names) > 100
    corpus = "\n".join(text for text, _ in training_corpus())
    found = sorted(value for value in wanted if _word(value).search(corpus))
    assert not found
