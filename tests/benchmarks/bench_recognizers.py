"""Recognizer accuracy (entity-level P/R/F1) and analysis speed (single call vs batched).

Accuracy on (a) the memo generator's ground truth (`producers.memo.labelled_memos`) and (b) the
hand-written tricky set `tests/data/recognizers/tricky.jsonl` (near misses, TV titles that look like
names, EU identifiers, phone formats). A prediction counts from `recognizers.MIN_SCORE`; a span matches
a label of the same entity when they overlap (exact-boundary figures are reported beside).
Speed in texts/s for short field values (what inference analyses) and for memos (what anonymize_text
analyses): one `analyze()` per text, deid's `analyze_values` (nlp.pipe + dedup), and Presidio's
`BatchAnalyzerEngine`, for the configured NLP engine and for the blank one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from faker import Faker
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine

from deid.settings import load_settings
from recognizers import MIN_SCORE, analyze_values, build_analyzer, engine_choice
from recognizers.custom import CUSTOM_RECOGNIZERS
from recognizers.evaluation import ALL, Span, result_spans, score_spans, score_table
from tests.benchmarks.common import BenchContext, Stopwatch, peak_rss_mb, print_table, progress
from tests.eval.generator import labelled_texts
from tests.eval.score import score_analyzer

NAME = "recognizers"
DESCRIPTION = "recognizer P/R/F1 per entity: independent set (tests/eval) beside memos and the tricky set; texts/s"

REPO = Path(__file__).resolve().parents[2]
TRICKY = REPO / "tests" / "data" / "recognizers" / "tricky.jsonl"
MEMO_ENTITIES = ("PERSON", "LOCATION", "PHONE_NUMBER", "IBAN_CODE", "EMAIL_ADDRESS", "DATE_TIME")
TV_TITLES = ("Barry", "Andi Mack", "Siesta Key", "Blood & Treasure", "9-1-1", "Doc Martin", "Lupin", "Borgen")
Labelled = list[tuple[str, list[Span]]]


def load_tricky(path: Path = TRICKY) -> Labelled:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["text"], [(s[0], s[1], s[2]) for s in row["spans"]]) for row in rows]


def load_memos(ctx: BenchContext) -> Labelled | None:
    try:
        from producers.memo import labelled_memos
    except ImportError:
        ctx.notes.append(
            "producers.memo is not available in this checkout: memo ground truth skipped, "
            "accuracy is on the hand-written tricky set only; memo speed uses tricky texts"
        )
        return None
    return [(text, list(spans)) for text, spans in labelled_memos(ctx.count(300, 12), 4242)]


def short_values(count: int, seed: int = 7) -> list[str]:
    """Field values of the kinds inference samples: ids, titles, dates, phones, cards, e-mails, names."""
    rng = random.Random(seed)
    fakers = [Faker(locale) for locale in ("de_DE", "fr_FR", "nl_NL", "pl_PL", "it_IT", "en_GB")]
    for index, fake in enumerate(fakers):
        fake.seed_instance(seed + index)
    makers: list[Callable[[Faker], str]] = [
        lambda f: f"user-{rng.randint(10000, 99999)}",
        lambda f: rng.choice(TV_TITLES),
        lambda f: f.date(pattern="%d-%m-%Y"),
        lambda f: f.phone_number(),
        lambda f: f.credit_card_number(card_type="amex"),
        lambda f: f.email(),
        lambda f: f.name(),
        lambda f: f.city(),
        lambda f: rng.choice(("voice", "sms", "Comedy", "Drama", "HBO", "Fox")),
        lambda f: str(rng.randint(1, 5000)),
    ]
    return [rng.choice(makers)(rng.choice(fakers)) for _ in range(count)]


def accuracy(analyzer: AnalyzerEngine, labelled: Labelled, entities: Sequence[str]) -> dict[str, Any]:
    texts = [text for text, _ in labelled]
    predicted = [result_spans(results, MIN_SCORE) for results in analyze_values(analyzer, texts)]
    pairs = [(gold, spans) for (_, gold), spans in zip(labelled, predicted, strict=True)]
    overlap = score_spans(pairs, entities=entities)
    exact = score_spans(pairs, entities=entities, mode="exact")
    print_table(["entity", "P", "R", "F1", "TP", "FP", "FN"], score_table(overlap))
    return {
        "texts": len(labelled),
        "per_entity": {entity: counts.as_dict() for entity, counts in overlap.items()},
        "exact_boundaries_all": exact[ALL].as_dict(),
    }


def independent_accuracy(analyzer: AnalyzerEngine, labelled: Labelled) -> dict[str, Any]:
    """Binary token recall/precision/F2 and per-entity token-level P/R/F1 (presidio-research's measure)."""
    figures = score_analyzer(analyzer, labelled, MIN_SCORE)
    b = figures["binary"]
    print(
        f"binary 'is this token personal data': recall {b['recall']:.3f}  "
        f"precision {b['precision']:.3f}  F2 {b['f2']:.3f}"
    )
    print(f"PERSON names hidden, listed in the gazetteers vs not: {figures['person_recall_listed_vs_unlisted']}")
    rows = [
        [e, t["precision"], t["recall"], t["f1"], figures["per_entity_spans"].get(e, {}).get("f1"), t["support"]]
        for e, t in figures["per_entity_tokens"].items()
        if t["support"]
    ]
    print_table(["entity", "token P", "token R", "token F1", "span F1", "tokens"], rows)
    return figures


def speed(analyzer: AnalyzerEngine, texts: list[str], repeats: int = 2) -> dict[str, float | int]:
    def rate(run: Callable[[], object]) -> float:
        # Best of `repeats`: the machine is shared, the slower runs measure the neighbours.
        seconds = []
        for _ in range(repeats):
            with Stopwatch() as watch:
                run()
            seconds.append(watch.seconds)
        return round(len(texts) / min(seconds), 1)

    analyzer.analyze(texts[0], language="en")  # warm caches (regexes compile on first use)
    presidio_batch = BatchAnalyzerEngine(analyzer)
    return {
        "texts": len(texts),
        "distinct": len(set(texts)),
        "single_call_tps": rate(lambda: [analyzer.analyze(t, language="en") for t in texts]),
        "analyze_values_tps": rate(lambda: analyze_values(analyzer, texts)),
        "presidio_batch_tps": rate(lambda: presidio_batch.analyze_iterator(texts, language="en", batch_size=256)),
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    settings = load_settings()
    configured = engine_choice(settings)
    engines = [settings.nlp_engine] + (["blank"] if configured.kind != "blank" else [])
    progress(configured.describe())
    with Stopwatch() as build:
        analyzer = build_analyzer(settings)
    memos = load_memos(ctx)
    tricky = load_tricky()
    result: dict[str, Any] = {
        "engine": {"kind": configured.kind, "model": configured.model, "reason": configured.reason},
        "build_seconds": round(build.seconds, 2),
        "min_score": MIN_SCORE,
        "accuracy": {},
        "speed": {},
    }
    if memos is not None:
        print(f"\nmemos ({len(memos)}), engine {configured.kind}")
        result["accuracy"]["memos"] = accuracy(analyzer, memos, MEMO_ENTITIES)
    independent = labelled_texts(ctx.count(1500, 60), 20240)
    print(
        f"\nindependent set ({len(independent)} texts, tests/eval: written apart from training), "
        f"engine {configured.kind}"
    )
    result["accuracy"]["independent"] = independent_accuracy(analyzer, independent)
    if memos is not None:
        print("\nin-distribution (memo generator) beside it, same token-level measure")
        result["accuracy"]["memos_token_level"] = independent_accuracy(analyzer, memos)
    tricky_entities = sorted({s[2] for _, spans in tricky for s in spans} | set(CUSTOM_RECOGNIZERS))
    print(f"\ntricky set ({len(tricky)}), engine {configured.kind}")
    result["accuracy"]["tricky"] = accuracy(analyzer, tricky, tricky_entities)

    values = short_values(ctx.count(3000, 150))
    memo_texts = [text for text, _ in memos] if memos else [text for text, _ in tricky if len(text) > 30]
    rows = []
    for spec in engines:
        engine_analyzer = build_analyzer(settings, engine=spec)
        kind = engine_choice(settings, engine=spec).kind
        progress(f"timing engine {kind}: {len(values)} short values, {len(memo_texts)} memos")
        timings = {"short_values": speed(engine_analyzer, values), "memos": speed(engine_analyzer, memo_texts)}
        result["speed"][kind] = timings
        for what, figures in timings.items():
            rows.append([kind, what, figures["texts"], *(figures[k] for k in list(figures)[2:])])
    print()
    print_table(["engine", "texts", "n", "single texts/s", "analyze_values texts/s", "BatchAnalyzer texts/s"], rows)
    result["peak_rss_mb"] = peak_rss_mb()
    return result
