"""Presidio's `AnonymizerEngine.anonymize` for the two operators anonymize_text uses, without its per-call cost.

`AnonymizerEngine` copies every result into its own type, resolves conflicts, builds an operator object
per entity and rebuilds the text once per entity: about 0.06 ms of CPU per memo on the bench machine,
a few percent of anonymize_text; this is about three times cheaper. This module does the same steps on plain
tuples, with the same rules in the same order (Presidio 2.2, `ConflictResolutionStrategy.
MERGE_SIMILAR_OR_CONTAINED`, `merge_entities_with_spaces=True`):

1. results sorted by (start, end);
2. overlapping results of one entity type (sharing at least one character) merge into one: the union of their spans, the
   highest score, at the position of the last one absorbed;
3. a result contained in another (of any type) is dropped; of results with equal spans the highest score
   survives, the last one on a tie;
4. two neighbours of one type separated by spaces only become one;
5. each span becomes `<ENTITY_TYPE>` (replace) or nothing (redact), from the end of the text to its start;
   where two spans still overlap, the earlier one ends where the later one begins.

`tests/unit/test_text_spans.py` proves the output equal to Presidio's on random span sets and on the
evaluation texts' real results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

Operator = Literal["replace", "redact"]
_SPACES = re.compile(r"^( )+$")

Span = list[Any]
"""[start, end, entity_type, score]: mutable, as Presidio's merges change start, end and score in place."""


def anonymize(text: str, results: Iterable[Any], operator: Operator = "replace") -> str:
    """`text` with every result (anything with start, end, entity_type, score) replaced or redacted."""
    spans: list[Span] = [[r.start, r.end, r.entity_type, r.score] for r in results]
    if not spans:
        return text
    if any(not 0 <= span[0] <= span[1] <= len(text) for span in spans):
        # Presidio raises InvalidParamError here; a wrong span must never pass text through untreated.
        raise ValueError("a result lies outside the text")
    spans.sort(key=lambda span: (span[0], span[1]))
    spans = _merge_spaced(text, _drop_contained(_merge_same_type(spans)))
    return _replace(text, spans, operator)


def _merge_same_type(spans: list[Span]) -> list[Span]:
    by_type: dict[str, list[tuple[int, Span]]] = {}
    for position, span in enumerate(spans):
        by_type.setdefault(span[2], []).append((position, span))
    kept: list[tuple[int, Span]] = []
    for positioned in by_type.values():
        positioned.sort(key=lambda item: (item[1][0], item[1][1]))
        position, current = positioned[0]
        for next_position, span in positioned[1:]:
            if min(current[1], span[1]) - max(current[0], span[0]) <= 0:  # Presidio's `intersects(...) == 0`
                kept.append((position, current))
                position, current = next_position, span
                continue
            current[0] = min(current[0], span[0])
            current[1] = max(current[1], span[1])
            current[3] = max(current[3], span[3])
            position = max(position, next_position)
        kept.append((position, current))
    kept.sort(key=lambda item: item[0])
    return [span for _, span in kept]


def _drop_contained(spans: list[Span]) -> list[Span]:
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1]))
    dropped: set[int] = set()
    largest_end: int | None = None
    index = 0
    while index < len(order):
        first = spans[order[index]]
        stop = index
        while stop < len(order) and spans[order[stop]][0] == first[0] and spans[order[stop]][1] == first[1]:
            stop += 1
        group = order[index:stop]
        if largest_end is not None and largest_end >= first[1]:
            dropped.update(group)
        else:
            survivor = max(group, key=lambda i: (spans[i][3], i))
            dropped.update(i for i in group if i != survivor)
        if largest_end is None or first[1] > largest_end:
            largest_end = first[1]
        index = stop
    return [span for i, span in enumerate(spans) if i not in dropped]


def _merge_spaced(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    previous: Span | None = None
    for span in spans:
        if previous is not None and previous[2] == span[2] and _SPACES.search(text[previous[1] : span[0]]):
            merged.remove(previous)
            span[0] = previous[0]
        merged.append(span)
        previous = span
    return merged


def _replace(text: str, spans: list[Span], operator: Operator) -> str:
    pieces: list[str] = []
    last = len(text)
    for start, end, entity, _ in sorted(spans, key=lambda span: (span[0], span[1]), reverse=True):
        pieces.append(text[min(end, last) : last])
        pieces.append(f"<{entity}>" if operator == "replace" else "")
        last = start
    pieces.append(text[:last])
    return "".join(reversed(pieces))
