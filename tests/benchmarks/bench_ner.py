"""deid's offline NER model on the held-out split: per-label P/R/F1 and docs/s, single call vs `nlp.pipe`.

When an `en_core_web_*` model is installed, the same figures for it side by side (its OntoNotes labels
mapped onto Presidio's names). When the memo generator exists, also the scores on its labelled memos.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from typing import Any

from recognizers.ner import LABELS, MODEL_DIR, load_model
from recognizers.ner.corpus import LabelledText, build_corpus
from recognizers.ner.evaluate import ONTONOTES_TO_PRESIDIO, Scores, evaluate
from tests.benchmarks.common import BenchContext, Stopwatch, peak_rss_mb, print_table, progress

NAME = "ner"
DESCRIPTION = "offline NER model: held-out per-label P/R/F1, docs/s single vs nlp.pipe (vs en_core_web_* if any)"

SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_trf")
MEMO_LABELS = ("PERSON", "LOCATION", "DATE_TIME")


def _speed(nlp: Any, texts: Sequence[str]) -> dict[str, float]:
    with Stopwatch() as single:
        for text in texts:
            nlp(text)
    with Stopwatch() as batched:
        for _ in nlp.pipe(texts, batch_size=64):
            pass
    return {
        "docs": len(texts),
        "single_docs_per_s": round(len(texts) / single.seconds, 1),
        "pipe_docs_per_s": round(len(texts) / batched.seconds, 1),
        "pipe_speedup": round(single.seconds / batched.seconds, 2),
    }


def _memo_scores(nlp: Any, count: int, seed: int, label_map: dict[str, str] | None) -> Scores | None:
    if importlib.util.find_spec("producers.memo") is None:
        return None
    from producers.memo import labelled_memos  # type: ignore[import-not-found]

    memos: list[LabelledText] = [
        (t, [s for s in spans if s[2] in MEMO_LABELS]) for t, spans in labelled_memos(count, seed)
    ]
    scores = evaluate(nlp, memos, label_map)
    return {label: scores[label] for label in (*MEMO_LABELS, "ALL")}


def _figures(nlp: Any, corpus: list[LabelledText], speed_texts: list[str], ctx: BenchContext, label_map: Any) -> dict:
    with Stopwatch() as timer:
        heldout = evaluate(nlp, corpus, label_map)
    progress(f"scored {len(corpus)} held-out documents in {timer.seconds:.1f}s")
    figures: dict[str, Any] = {"heldout": heldout, "speed": _speed(nlp, speed_texts)}
    memos = _memo_scores(nlp, ctx.count(300, 20), seed=11, label_map=label_map)
    figures["memo_generator"] = memos if memos is not None else "producers.memo not available on this branch"
    return figures


def run(ctx: BenchContext) -> dict[str, Any]:
    import spacy

    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    seed = int(meta.get("deid", {}).get("training", {}).get("seed", 7))
    corpus = build_corpus("test", ctx.count(3000, 80), seed)
    speed_texts = [text for text, _ in corpus[: ctx.count(1000, 40)]]
    progress(f"loading {MODEL_DIR}")
    with Stopwatch() as load:
        nlp = load_model()
    ours = {"model": f"deid_ner {meta['version']}", "load_seconds": round(load.seconds, 2)}
    ours.update(_figures(nlp, corpus, speed_texts, ctx, None))
    result: dict[str, Any] = {"heldout_docs": len(corpus), "seed": seed, "deid_ner": ours}

    installed = [name for name in SPACY_MODELS if spacy.util.is_package(name)]
    if installed:
        progress(f"loading {installed[0]}")
        other = spacy.load(installed[0])
        result["en_core_web"] = {
            "model": installed[0],
            **_figures(other, corpus, speed_texts, ctx, ONTONOTES_TO_PRESIDIO),
        }
    else:
        result["en_core_web"] = {
            "installed": False,
            "note": "no en_core_web_* model is installed (none downloadable here)",
        }
        ctx.notes.append("no en_core_web_* model installed: only deid_ner measured")
    result["peak_rss_mb"] = peak_rss_mb()

    models = [("deid_ner", ours)] + ([(installed[0], result["en_core_web"])] if installed else [])
    rows = [
        [name, label, f["heldout"][label]["precision"], f["heldout"][label]["recall"], f["heldout"][label]["f1"],
         f["heldout"][label]["support"]]
        for name, f in models for label in (*LABELS, "ALL")
    ]  # fmt: skip
    print_table(["model", "label", "P", "R", "F1", "support"], rows)
    print_table(
        ["model", "docs", "single docs/s", "pipe docs/s", "speedup"],
        [[n, f["speed"]["docs"], f["speed"]["single_docs_per_s"], f["speed"]["pipe_docs_per_s"],
          f["speed"]["pipe_speedup"]] for n, f in models],
    )  # fmt: skip
    return result
