"""anonymize_text: Presidio analyze + anonymize inside free text (`<PERSON>`, `<IBAN_CODE>`, …).

The analyzer is the process's one engine from `recognizers.build_analyzer(settings)` (built once, shared
by every field and worker thread), reached through the `TextAnalysis` the plan compiler hands every
field (`FieldContext.text_analysis`, built by the worker from its own settings); the anonymizer's
operators are fixed at compile time. Fail closed: a
rule that asks for names or places when the NLP engine cannot find them (the blank fallback) does not
compile, because it would let every name through while looking treated.
"""

from __future__ import annotations

from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from deid.policy import AnonymizeTextParams
from deid.settings import Settings
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError

NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "ORGANIZATION"})


class NamesUndetectableError(TreatmentError):
    """The NLP engine in force cannot find the names/places the rule asks for."""


class TextAnalysis:
    """The NLP side of anonymize_text for one worker: its settings' engine and analyzer, built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

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


class AnonymizeText(Transform):
    name = "anonymize_text"

    def compile(self, params: AnonymizeTextParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
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
        analyzer, min_score = text.analyzer(), text.min_score()
        anonymizer = AnonymizerEngine()
        entities = sorted(wanted) or None
        if params.operator == "redact":
            operators = {"DEFAULT": OperatorConfig("redact", {})}
        else:
            operators = {"DEFAULT": OperatorConfig("replace", {})}  # Presidio's default: "<ENTITY_TYPE>"
        path = field.path

        def anonymize_text(value: Any, _subject: Any) -> str:
            if type(value) is not str:
                raise TreatmentError(path, f"anonymize_text needs a string, got {type(value).__name__}")
            if not value:
                return value
            results = analyzer.analyze(value, language="en", entities=entities, score_threshold=min_score)
            if not results:
                return value
            return anonymizer.anonymize(value, results, operators).text

        return anonymize_text
