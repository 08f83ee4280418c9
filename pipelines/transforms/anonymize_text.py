"""anonymize_text: Presidio analyze + anonymize inside free text (`<PERSON>`, `<IBAN_CODE>`, …).

The analyzer is the process's one engine from `recognizers.build_analyzer()` (built once, shared by
every field and worker thread); the anonymizer's operators are fixed at compile time. Fail closed: a
rule that asks for names or places when the NLP engine cannot find them (the blank fallback) does not
compile, because it would let every name through while looking treated.
"""

from __future__ import annotations

from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from deid.policy import AnonymizeTextParams
from deid.settings import load_settings
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError

NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "ORGANIZATION"})


class NamesUndetectableError(TreatmentError):
    """The NLP engine in force cannot find the names/places the rule asks for."""


class AnonymizeText(Transform):
    name = "anonymize_text"

    def compile(self, params: AnonymizeTextParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        from recognizers import MIN_SCORE, build_analyzer, engine_choice

        settings = load_settings()
        wanted = set(params.entities)
        if not engine_choice(settings).detects_names and (not wanted or wanted & NER_ENTITIES):
            raise NamesUndetectableError(
                field.path,
                "the NLP engine in force cannot detect names or places (blank pipeline); install a spaCy model "
                "or use deid's offline model (DEID_NLP_ENGINE=deid) before using anonymize_text",
            )
        analyzer = build_analyzer(settings)
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
            results = analyzer.analyze(value, language="en", entities=entities, score_threshold=MIN_SCORE)
            if not results:
                return value
            return anonymizer.anonymize(value, results, operators).text

        return anonymize_text
