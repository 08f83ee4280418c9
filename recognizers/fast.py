"""Presidio's `AnalyzerEngine.analyze`, the same results for less time per text (free text is analysed per memo).

What the profile of `anonymize_text` showed, and what is done about it here:

- Presidio's context enhancer deep-copies every result of every text, then for each result with context
  words walks the spaCy Doc token by token (creating a Token object per step) to find where the result
  starts, and tests words against a list. `FastContextEnhancer` finds the token by bisection over the
  token ends, tests against a set, and copies only the results it changes.
- `AnalyzerEngine._enhance_using_context` filters all results once per recognizer (recognizers times results).
  `analyze_fast` groups them by recognizer id in one pass and asks a recognizer for its own context
  logic only when it has one (EntityRecognizer's default returns its results unchanged).
- Recognizers that cannot match a text are skipped (`recognizers.prefilter`: a pattern that needs a digit
  is not run on a text without one).
- A plain PatternRecognizer's patterns run in `_run_patterns`: Presidio's `__analyze_patterns` minus its
  two clock readings and a debug log call per pattern per text (70 patterns per memo).

Everything else is Presidio's own code, in Presidio's order: `tests/unit/test_recognizers_fast.py` proves
the results equal to `AnalyzerEngine.analyze` on the evaluation set's dev half and on generated memos.
"""

from __future__ import annotations

import copy
import logging
from bisect import bisect_right
from typing import Any

import regex
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer, LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS

from recognizers.prefilter import can_match_signature, signature

logger = logging.getLogger("deid.recognizers")
_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY


class _TokenIndex:
    """Per text: where each token ends, and the context keywords as a set."""

    __slots__ = ("ends", "keywords")

    def __init__(self, artifacts: NlpArtifacts) -> None:
        starts = artifacts.tokens_indices
        self.ends = [start + len(token) for start, token in zip(starts, artifacts.tokens, strict=True)]
        self.keywords = frozenset(artifacts.keywords)


def _index(artifacts: NlpArtifacts) -> _TokenIndex:
    index: _TokenIndex | None = getattr(artifacts, "_deid_index", None)
    if index is None:
        index = _TokenIndex(artifacts)
        artifacts._deid_index = index  # type: ignore[attr-defined]
    return index


class FastContextEnhancer(LemmaContextAwareEnhancer):
    """LemmaContextAwareEnhancer with its defaults and its results, without its per-result costs."""

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None:
            return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context] if context else []
        out: list[RecognizerResult] = []
        for result in raw_results:
            metadata = result.recognition_metadata
            recognizer = by_id.get(metadata[_ID]) if metadata and _ID in metadata else None
            if recognizer is None or not recognizer.context or metadata.get(_ENHANCED):
                out.append(result)
                continue
            surrounding = self._surrounding_words(nlp_artifacts, result.start)
            surrounding.extend(extra)
            word = self._find_supportive_word_in_context(surrounding, recognizer.context, self.context_matching_mode)
            if word != "":
                result = copy.copy(result)
                result.analysis_explanation = copy.copy(result.analysis_explanation)
                result.score += self.context_similarity_factor
                result.score = max(result.score, self.min_score_with_context_similarity)
                result.score = min(result.score, ContextAwareEnhancer.MAX_SCORE)
                result.analysis_explanation.set_supportive_context_word(word)
                result.analysis_explanation.set_improved_score(result.score)
            out.append(result)
        return out

    def _surrounding_words(self, artifacts: NlpArtifacts, start: int) -> list[str]:
        if not artifacts.tokens:
            return [""]
        index = _index(artifacts)
        # Presidio: the first token that starts at `start` or ends after it.
        token = bisect_right(index.ends, start)
        if token == len(index.ends):
            raise ValueError("a result starts after the last token")  # Presidio's error, without the text
        lemmas, keywords = artifacts.lemmas, index.keywords
        words = _n_words(token, self.context_prefix_count, lemmas, keywords, -1)
        words += _n_words(token, self.context_suffix_count, lemmas, keywords, 1)
        return list(set(words))


def _n_words(index: int, count: int, lemmas: list[str], keywords: frozenset[str], step: int) -> list[str]:
    words: list[str] = []
    remaining = count + 1  # the entity's own token counts (Presidio's rule)
    while 0 <= index < len(lemmas) and remaining > 0:
        lower = lemmas[index].lower()
        if lower in keywords:
            words.append(lower)
            remaining -= 1
        index += step
    return words


def _own_context_logic(recognizer: EntityRecognizer) -> bool:
    return type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context


def analyze_fast(
    engine: AnalyzerEngine,
    text: str,
    language: str,
    entities: list[str] | None,
    score_threshold: float | None,
    context: list[str] | None,
    nlp_artifacts: NlpArtifacts | None,
) -> list[RecognizerResult]:
    """`engine.analyze(text, language, entities, score_threshold=…, context=…, nlp_artifacts=…)`, same results.

    For calls without ad hoc recognizers, allow lists or the decision process (the caller checks)."""
    all_fields = not entities
    recognizers = engine.registry.get_recognizers(language=language, entities=entities, all_fields=all_fields)
    if all_fields:
        entities = engine.get_supported_entities(language=language)
    if not nlp_artifacts:
        nlp_artifacts = engine.nlp_engine.process_text(text, language)
    text_signature = signature(frozenset(text))
    by_id: dict[Any, list[RecognizerResult]] = {}
    for recognizer in recognizers:
        if not recognizer.is_loaded:
            recognizer.load()
            recognizer.is_loaded = True
        if not can_match_signature(recognizer, text_signature):
            continue
        if type(recognizer).analyze is PatternRecognizer.analyze:
            found = _run_patterns(recognizer, text)  # type: ignore[arg-type]
        else:
            found = recognizer.analyze(text=text, entities=entities, nlp_artifacts=nlp_artifacts)
        for result in found or ():
            if not result.recognition_metadata:
                result.recognition_metadata = {}
            metadata = result.recognition_metadata
            if _ID not in metadata:
                metadata[_ID] = recognizer.id
            if RecognizerResult.RECOGNIZER_NAME_KEY not in metadata:
                metadata[RecognizerResult.RECOGNIZER_NAME_KEY] = recognizer.name
            by_id.setdefault(metadata[_ID], []).append(result)
    results = _recognizer_context(text, by_id, recognizers, nlp_artifacts, context)
    results = engine.context_aware_enhancer.enhance_using_context(
        text=text, raw_results=results, nlp_artifacts=nlp_artifacts, recognizers=recognizers, context=context
    )
    results = engine._AnalyzerEngine__remove_low_scores(results, score_threshold, recognizers)  # type: ignore[attr-defined]
    results = EntityRecognizer.remove_duplicates(results)
    for result in results:
        result.analysis_explanation = None
    return results


def _recognizer_context(
    text: str,
    by_id: dict[Any, list[RecognizerResult]],
    recognizers: list[EntityRecognizer],
    nlp_artifacts: NlpArtifacts,
    context: list[str] | None,
) -> list[RecognizerResult]:
    """Presidio's per-recognizer step: results in recognizer order, each recognizer's own context logic."""
    results: list[RecognizerResult] = []
    for recognizer in recognizers:
        own = by_id.get(recognizer.id, [])
        if _own_context_logic(recognizer):
            others = [r for rid, rs in by_id.items() if rid != recognizer.id for r in rs]
            own = recognizer.enhance_using_context(
                text=text,
                raw_recognizer_results=own,
                other_raw_recognizer_results=others,
                nlp_artifacts=nlp_artifacts,
                context=context,
            )
        results.extend(own)
    return results


def _run_patterns(recognizer: PatternRecognizer, text: str) -> list[RecognizerResult]:
    """`PatternRecognizer.analyze(text, entities)` (Presidio 2.2's `__analyze_patterns`), step for step."""
    if not recognizer.patterns:
        return []
    flags = recognizer.global_regex_flags
    entity = recognizer.supported_entities[0]
    metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name, _ID: recognizer.id}
    results: list[RecognizerResult] = []
    for pattern in recognizer.patterns:
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags
            pattern.compiled_regex = regex.compile(pattern.regex, flags=flags)
        try:
            for match in pattern.compiled_regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                start, end = match.span()
                current = text[start:end]
                if current == "":
                    continue
                validation = recognizer.validate_result(current)
                description = recognizer.build_regex_explanation(
                    recognizer.name, pattern.name, pattern.regex, pattern.score, validation, flags
                )
                result = RecognizerResult(entity, start, end, pattern.score, description, dict(metadata))
                if validation is not None:
                    result.score = EntityRecognizer.MAX_SCORE if validation else EntityRecognizer.MIN_SCORE
                invalidation = recognizer.invalidate_result(current)
                if invalidation is not None and invalidation:
                    result.score = EntityRecognizer.MIN_SCORE
                if result.score > EntityRecognizer.MIN_SCORE:
                    results.append(result)
                description.score = result.score
        except TimeoutError:
            logger.warning("pattern %r of %s timed out, skipped", pattern.name, recognizer.name)
    return EntityRecognizer.remove_duplicates(results)
