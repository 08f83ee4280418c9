"""Entity-level scoring: a predicted span counts only if its start, end and label all match the truth.

Used by training (model selection on dev, the held-out report), the NER bench and the tests. Models with
other label sets (spaCy's `en_core_web_*`) are scored through a label map onto Presidio's names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from recognizers.ner import LABELS
from recognizers.ner.corpus import LabelledText, Span

if TYPE_CHECKING:
    from spacy.language import Language

# spaCy's OntoNotes labels in Presidio's names (as Presidio's own default NER mapping does).
ONTONOTES_TO_PRESIDIO: dict[str, str] = {
    "PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
    "ORG": "ORGANIZATION", "NORP": "NRP", "DATE": "DATE_TIME", "TIME": "DATE_TIME",
}  # fmt: skip

Scores = dict[str, dict[str, float | int]]


def predict(
    nlp: Language,
    texts: Sequence[str],
    label_map: Mapping[str, str] | None = None,
    batch_size: int = 64,
) -> list[list[Span]]:
    """Predicted entity spans per text; labels outside `label_map` (when given) are dropped."""
    predictions: list[list[Span]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        spans: list[Span] = []
        for ent in doc.ents:
            label = label_map.get(ent.label_) if label_map is not None else ent.label_
            if label is not None:
                spans.append((ent.start_char, ent.end_char, label))
        predictions.append(spans)
    return predictions


def score(
    gold: Iterable[Iterable[Span]], predicted: Iterable[Iterable[Span]], labels: Sequence[str] = LABELS
) -> Scores:
    """Per-label precision, recall, F1 and support, plus `ALL` (micro average over `labels`)."""
    counts: dict[str, Counter[str]] = {label: Counter() for label in (*labels, "ALL")}
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        truth = {s for s in gold_spans if s[2] in labels}
        guess = {s for s in predicted_spans if s[2] in labels}
        for span in truth & guess:
            counts[span[2]]["tp"] += 1
        for span in guess - truth:
            counts[span[2]]["fp"] += 1
        for span in truth - guess:
            counts[span[2]]["fn"] += 1
    for label in labels:
        counts["ALL"].update(counts[label])
    return {label: _ratios(counter) for label, counter in counts.items()}


def _ratios(counter: Counter[str]) -> dict[str, float | int]:
    tp, fp, fn = counter["tp"], counter["fp"], counter["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate(nlp: Language, corpus: Sequence[LabelledText], label_map: Mapping[str, str] | None = None) -> Scores:
    """Score `nlp` on a labelled corpus."""
    texts = [text for text, _ in corpus]
    return score([spans for _, spans in corpus], predict(nlp, texts, label_map))


def format_scores(scores: Scores) -> str:
    """A small fixed-width table, one row per label."""
    lines = [f"{'label':<14}{'P':>8}{'R':>8}{'F1':>8}{'support':>9}"]
    for label, row in scores.items():
        lines.append(f"{label:<14}{row['precision']:>8.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9}")
    return "\n".join(lines)
