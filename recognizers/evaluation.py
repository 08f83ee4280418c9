"""Entity-level precision, recall and F1 of predicted spans against labelled spans.

Shared by `./scripts/bench recognizers` and the NER bench. A span is `(start, end, entity)`. Per entity,
each predicted span is matched to at most one labelled span of the same entity and vice versa:
`exact` needs the same boundaries, `overlap` (the default; what matters for de-identification, where
"Mrs Lena Smith" vs "Lena Smith" hides the same person) needs at least one shared character.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from presidio_analyzer import RecognizerResult

Span = tuple[int, int, str]
MatchMode = Literal["overlap", "exact"]
ALL = "ALL"
"""Key of the micro-average over every evaluated entity."""


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.support,
        }


def _matches(gold: Span, predicted: Span, mode: MatchMode) -> bool:
    if mode == "exact":
        return gold[:2] == predicted[:2]
    return max(gold[0], predicted[0]) < min(gold[1], predicted[1])


def count_entity(gold: Sequence[Span], predicted: Sequence[Span], mode: MatchMode = "overlap") -> Counts:
    """TP/FP/FN of one text for spans that all carry the same entity."""
    unmatched = sorted(set(gold))
    tp = 0
    for span in sorted(set(predicted)):
        hit = next((g for g in unmatched if _matches(g, span, mode)), None)
        if hit is not None:
            unmatched.remove(hit)
            tp += 1
    return Counts(tp=tp, fp=len(set(predicted)) - tp, fn=len(unmatched))


def score_spans(
    examples: Iterable[tuple[Sequence[Span], Sequence[Span]]],
    *,
    entities: Collection[str] | None = None,
    mode: MatchMode = "overlap",
) -> dict[str, Counts]:
    """Per-entity counts (plus ALL) over (gold, predicted) pairs, one pair per text.

    `entities` limits the evaluation (others are ignored on both sides); by default every entity that
    appears in the gold spans. Predictions of an evaluated entity in a text without such a label are FPs.
    """
    pairs = [(list(gold), list(predicted)) for gold, predicted in examples]
    wanted = set(entities) if entities is not None else {span[2] for gold, _ in pairs for span in gold}
    scores = {entity: Counts() for entity in sorted(wanted)}
    for gold, predicted in pairs:
        for entity in wanted:
            scores[entity].add(
                count_entity([s for s in gold if s[2] == entity], [s for s in predicted if s[2] == entity], mode=mode)
            )
    total = Counts()
    for counts in scores.values():
        total.add(counts)
    scores[ALL] = total
    return scores


def result_spans(results: Iterable[RecognizerResult], min_score: float = 0.0) -> list[Span]:
    """Presidio results as spans, keeping those scoring at least `min_score`."""
    return [(r.start, r.end, r.entity_type) for r in results if r.score >= min_score]


def score_table(scores: dict[str, Counts]) -> list[list[object]]:
    """Rows for `tests.benchmarks.common.print_table(["entity", "P", "R", "F1", "TP", "FP", "FN"], rows)`."""
    return [
        [entity, round(c.precision, 3), round(c.recall, 3), round(c.f1, 3), c.tp, c.fp, c.fn]
        for entity, c in scores.items()
    ]


# -- token level: what presidio-research's evaluator and the issue-24 external set measure -------------
ANY = "PII"
"""Key of the binary "is this token personal data" score (any entity on both sides)."""
_WORD = re.compile(r"\w+")


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    """F-beta; beta 2 weighs recall twice as much as precision (a missed name leaks, a false alarm costs data)."""
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0.0


def _token_labels(text: str, spans: Sequence[Span], aliases: Mapping[str, str]) -> list[str | None]:
    """The entity of each word token of `text`: the first span (in the given order) that overlaps it."""
    labels: list[str | None] = []
    for word in _WORD.finditer(text):
        label = next((s[2] for s in spans if s[0] < word.end() and word.start() < s[1]), None)
        labels.append(aliases.get(label, label) if label is not None else None)
    return labels


def token_scores(
    examples: Iterable[tuple[str, Sequence[Span], Sequence[Span]]],
    *,
    entities: Collection[str],
    aliases: Mapping[str, str] | None = None,
) -> dict[str, Counts]:
    """Word-token counts per entity, plus ANY (binary: personal or not, whatever the entity).

    `examples` are (text, gold spans, predicted spans); predicted spans in priority order (highest score
    first), since a token takes the label of the first span covering it. `aliases` renames predicted
    entities (CUSTOM_CREDIT_CARD -> CREDIT_CARD). For ANY, every predicted entity counts: a phone number
    hidden as an NHS number is still hidden; per entity, only the evaluated ones do.
    """
    aliases = dict(aliases or {})
    scores = {entity: Counts() for entity in sorted(entities)}
    binary = Counts()
    for text, gold, predicted in examples:
        truth = _token_labels(text, gold, {})
        guess = _token_labels(text, predicted, aliases)
        for want, got in zip(truth, guess, strict=True):
            if want is not None and got is not None:
                binary.tp += 1
            elif got is not None:
                binary.fp += 1
            elif want is not None:
                binary.fn += 1
            for entity, counts in scores.items():
                if want == entity and got == entity:
                    counts.tp += 1
                elif got == entity:
                    counts.fp += 1
                elif want == entity:
                    counts.fn += 1
    scores[ANY] = binary
    return scores
