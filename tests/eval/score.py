"""Score an analyzer on the independent set: `python -m tests.eval.score [--count N] [--seed S]`.

Prints the binary token-level recall/precision/F2 and per-entity token-level and span-level P/R/F1.
The same figures are part of `./scripts/bench recognizers`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from presidio_analyzer import AnalyzerEngine

from deid.settings import load_settings
from recognizers import MIN_SCORE, analyze_values, build_analyzer
from recognizers.evaluation import ANY, f_beta, score_spans, token_scores
from recognizers.gazetteers import given_names, surnames
from tests.eval.generator import ENTITIES, Labelled, labelled_texts

ALIASES = {"CUSTOM_CREDIT_CARD": "CREDIT_CARD"}


def score_analyzer(analyzer: AnalyzerEngine, labelled: Labelled, min_score: float) -> dict[str, Any]:
    """Token-level binary + per entity (presidio-research style) and span-overlap per entity."""
    texts = [text for text, _ in labelled]
    predicted = []
    for results in analyze_values(analyzer, texts):
        kept = sorted((r for r in results if r.score >= min_score), key=lambda r: (-r.score, r.start))
        predicted.append([(r.start, r.end, r.entity_type) for r in kept])
    tokens = token_scores(
        [(text, gold, spans) for (text, gold), spans in zip(labelled, predicted, strict=True)],
        entities=ENTITIES,
        aliases=ALIASES,
    )
    renamed = [[(s, e, ALIASES.get(t, t)) for s, e, t in spans] for spans in predicted]
    spans = score_spans([(gold, p) for (_, gold), p in zip(labelled, renamed, strict=True)], entities=ENTITIES)
    binary = tokens[ANY]
    return {
        "person_recall_listed_vs_unlisted": _person_recall_by_listing(labelled, predicted),
        "texts": len(labelled),
        "binary": {
            "recall": round(binary.recall, 4),
            "precision": round(binary.precision, 4),
            "f2": round(f_beta(binary.precision, binary.recall), 4),
            **{k: v for k, v in binary.as_dict().items() if k in ("tp", "fp", "fn")},
        },
        "per_entity_tokens": {e: c.as_dict() for e, c in tokens.items() if e != ANY},
        "per_entity_spans": {e: c.as_dict() for e, c in spans.items()},
    }


def _person_recall_by_listing(labelled: Labelled, predicted: list[list[tuple[int, int, str]]]) -> dict[str, Any]:
    """Span recall of gold PERSON (hidden under any entity) for names whose every word is in deid's Faker-built
    gazetteers ("listed") and for the others: how a name nobody listed fares."""
    known = given_names() | surnames()
    tally = {"listed": [0, 0], "unlisted": [0, 0]}
    for (text, gold), spans in zip(labelled, predicted, strict=True):
        for start, end, entity in gold:
            if entity != "PERSON":
                continue
            words = [w.lower() for w in re.findall(r"[^\W\d_]{2,}", text[start:end])]
            kind = "listed" if words and all(w in known for w in words) else "unlisted"
            tally[kind][1] += 1
            tally[kind][0] += any(s < end and start < e for s, e, _ in spans)
    return {
        kind: {"recall": round(hit / total, 4) if total else 0.0, "names": total}
        for kind, (hit, total) in tally.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.eval.score", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20240)
    parser.add_argument("--part", choices=("test", "dev", "all"), default="test", help="half of the set (default test)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = score_analyzer(
        build_analyzer(load_settings()), labelled_texts(args.count, args.seed, args.part), MIN_SCORE
    )
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    b = figures["binary"]
    print(f"binary token: recall {b['recall']:.3f} precision {b['precision']:.3f} F2 {b['f2']:.3f}")
    print(f"PERSON spans hidden, listed vs unlisted names: {figures['person_recall_listed_vs_unlisted']}")
    print(f"{'entity':<14}{'tokP':>7}{'tokR':>7}{'tokF1':>7}{'spanF1':>8}{'spanR':>7}")
    for entity in ENTITIES:
        t, s = figures["per_entity_tokens"][entity], figures["per_entity_spans"][entity]
        print(f"{entity:<14}{t['precision']:>7.3f}{t['recall']:>7.3f}{t['f1']:>7.3f}{s['f1']:>8.3f}{s['recall']:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
