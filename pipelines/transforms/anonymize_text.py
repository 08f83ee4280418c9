"""anonymize_text: Presidio analyze + anonymize inside free text (`<PERSON>`, `<IBAN_CODE>`, …), batched.

The analyzer is the process's one engine from `recognizers.build_analyzer(settings)` (built once, shared
by every field and worker thread), reached through the `TextAnalysis` the plan compiler hands every
field (`FieldContext.text_analysis`, built by the worker from its own settings); the anonymizer's
operators are fixed at compile time. The compiled function is a `TextAnonymizer`: called per value like
every field function, and with a `prepare(values)` the plan calls once per consumed batch
(`Plan.prepare_batch`) so that the whole batch goes through one analyzer pass (`recognizers.analyze_values`:
`nlp.pipe` over the distinct texts, recognizers on the precomputed artifacts). Identical texts, within a
batch and across recent batches, are analysed once. A value the batch did not prepare (a consent branch,
an array item) is analysed alone.

Fail closed: a rule that asks for names or places when the NLP engine cannot find them (the blank
fallback) does not compile, because it would let every name through while looking treated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from deid.policy import AnonymizeTextParams
from deid.settings import Settings
from pipelines.transforms import text_spans
from pipelines.transforms.base import FieldContext, Transform, TreatmentError

NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "ORGANIZATION"})
CACHE_SIZE = 8192
"""Treated texts remembered across batches (raw side only: the worker's own memory)."""
BATCH_SIZE = 64
"""spaCy `nlp.pipe` batch size for memos (a few hundred characters each)."""


class NamesUndetectableError(TreatmentError):
    """The NLP engine in force cannot find the names/places the rule asks for."""


class TextAnalysis:
    """The NLP side of anonymize_text for one worker: its settings' engine and analyzer, built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: Any = None

    def detects_names(self) -> bool:
        # start-up: spaCy and Presidio's analyzer load only when a policy uses anonymize_text.
        from recognizers import engine_choice

        return engine_choice(self.settings).detects_names

    def analyzer(self) -> Any:
        # start-up: as above.
        from recognizers import build_analyzer

        return build_analyzer(self.settings)

    def min_score(self) -> float:
        # start-up: as above.
        from recognizers import MIN_SCORE

        return MIN_SCORE

    def analyze_values(self) -> Callable[..., list[list[Any]]]:
        """`recognizers.analyze_values`: one batched pass over many texts; with `text_processes` > 1, shared with
        helper processes (`recognizers.pool`, started on first use, one set per worker)."""
        # start-up: as above.
        from recognizers import analyze_values

        if self.settings.text_processes <= 1:
            return analyze_values
        if self._pool is None:
            # start-up: as above.
            from recognizers.pool import AnalysisPool

            self._pool = AnalysisPool(self.settings, self.settings.text_processes, analyze_values)
        return self._pool  # type: ignore[no-any-return]

    def wait_ready(self) -> None:
        """Wait for the helper processes, if any, to load their models."""
        if self._pool is not None:
            self._pool.wait_ready()

    def close(self) -> None:
        """Stop the helper processes, if any (they also stop when the worker's process ends)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class TextAnonymizer:
    """One field's compiled anonymize_text: `fn(value, subject)`, plus `prepare(values)` for a batch."""

    def __init__(
        self,
        path: str,
        analyzer: Any,
        entities: Sequence[str] | None,
        operator: text_spans.Operator,
        min_score: float,
        analyze_batch: Callable[..., list[list[Any]]],
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.path = path
        self._analyzer = analyzer
        self._analyze_batch = analyze_batch  # recognizers.analyze_values
        self._entities = list(entities) if entities else None
        self._operator = operator
        self._min_score = min_score
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size
        self.analysed = 0  # texts that went through the analyzer (a repeated text counts once)
        self.reused = 0  # values answered from the cache

    def prepare(self, values: Iterable[Any]) -> int:
        """Analyse, in one batched pass, the batch's texts not treated recently; how many were analysed."""
        cache = self._cache
        fresh = [v for v in dict.fromkeys(v for v in values if type(v) is str and v) if v not in cache]
        if not fresh:
            return 0
        results = self._analyze_batch(
            self._analyzer, fresh, entities=self._entities, score_threshold=self._min_score, batch_size=BATCH_SIZE
        )
        if len(cache) + len(fresh) > self._cache_size:
            cache.clear()  # simplest bound; a batch's own texts are always kept for its records
        for text, found in zip(fresh, results, strict=True):
            cache[text] = self._anonymize(text, found)
        self.analysed += len(fresh)
        return len(fresh)

    def __call__(self, value: Any, _subject: Any) -> str:
        if type(value) is not str:
            raise TreatmentError(self.path, f"anonymize_text needs a string, got {type(value).__name__}")
        if not value:
            return value
        treated = self._cache.get(value)
        if treated is not None:
            self.reused += 1
            return treated
        found = self._analyzer.analyze(value, language="en", entities=self._entities, score_threshold=self._min_score)
        self.analysed += 1
        return self._anonymize(value, found)

    def _anonymize(self, text: str, found: list[Any]) -> str:
        # Presidio's AnonymizerEngine output (replace: `<ENTITY_TYPE>`, redact: nothing), same conflict rules.
        if not found:
            return text
        try:
            return text_spans.anonymize(text, found, self._operator)
        except ValueError as exc:  # a span outside the text: fail closed (the record goes to the DLQ)
            raise TreatmentError(self.path, str(exc)) from None


class AnonymizeText(Transform):
    name = "anonymize_text"

    def compile(self, params: AnonymizeTextParams, field: FieldContext) -> TextAnonymizer:  # type: ignore[override]
        text: TextAnalysis | None = field.text_analysis
        if text is None:
            raise TreatmentError(
                field.path, "anonymize_text needs the NLP engine: compile the policy with text_analysis (workers do)"
            )
        wanted = set(params.entities)
        if not text.detects_names() and (not wanted or wanted & NER_ENTITIES):
            raise NamesUndetectableError(
                field.path,
                "the NLP engine in force cannot detect names or places (blank pipeline); install a spaCy model "
                "or use deid's offline model (DEID_NLP_ENGINE=deid) before using anonymize_text",
            )
        operator: text_spans.Operator = "redact" if params.operator == "redact" else "replace"
        analyze_batch = text.analyze_values()  # helpers (if any) start loading now, beside the analyzer below
        analyzer = text.analyzer()
        text.wait_ready()
        return TextAnonymizer(field.path, analyzer, sorted(wanted) or None, operator, text.min_score(), analyze_batch)
