"""Many short values at once: what schema inference does with a field's sample on each executor.

The NLP pipeline runs over the distinct values with spaCy's `nlp.pipe` (batched; what Presidio's
BatchAnalyzerEngine does too), then each value's recognizers run on its precomputed NLP artifacts.
Repeated values (a column of user ids or TV titles repeats a lot) are analysed once.
`./scripts/bench recognizers` compares this with one `analyze()` call per value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from presidio_analyzer import AnalyzerEngine, RecognizerResult

from recognizers.engine import LANGUAGE

DEFAULT_BATCH_SIZE = 256


def analyze_values(
    analyzer: AnalyzerEngine,
    values: Iterable[str],
    *,
    entities: Sequence[str] | None = None,
    context: Sequence[str] | None = None,
    score_threshold: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[list[RecognizerResult]]:
    """Presidio results for each value, in order (a value seen twice gets equal results).

    `context` words (for instance the field name split into words: `card`, `number`) raise the
    scores of recognizers that list them, as if they were written next to every value.
    """
    values = [str(value) for value in values]
    distinct = list(dict.fromkeys(values))
    artifacts = analyzer.nlp_engine.process_batch(distinct, language=LANGUAGE, batch_size=batch_size)
    by_value: dict[str, list[RecognizerResult]] = {}
    for value, (_, nlp_artifacts) in zip(distinct, artifacts, strict=True):
        by_value[value] = analyzer.analyze(
            text=value,
            language=LANGUAGE,
            entities=list(entities) if entities else None,
            context=list(context) if context else None,
            score_threshold=score_threshold,
            nlp_artifacts=nlp_artifacts,
        )
    return [list(by_value[value]) for value in values]
