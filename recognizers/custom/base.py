"""The shape of deid's checked recognizers: patterns find candidates, a check (checksum, structure) keeps them.

A candidate that fails the check is dropped. One that passes keeps its pattern's score (unless the
check is conclusive on its own) rather than jumping to Presidio's 1.0: the score says how much a
passing check proves (a 1-in-11 check on a bare 9-digit number proves little, a country prefix plus
mod 97 proves a lot). Context words then raise it.
"""

from __future__ import annotations

import re
from typing import ClassVar

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

_SEPARATORS = re.compile(r"[\s.\-/]")


class CheckedPatternRecognizer(PatternRecognizer):
    """A PatternRecognizer for one entity whose matches must pass `is_valid` (on the compacted text)."""

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]]
    """(name, regex, score when the check passes)"""
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    CONCLUSIVE: ClassVar[bool] = False
    """True when passing the check is itself proof (score 1.0, like Presidio's CREDIT_CARD and IBAN)."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            patterns=[Pattern(name, regex, score) for name, regex, score in self.PATTERNS],
            context=list(self.CONTEXT),
            supported_language=supported_language,
        )

    @staticmethod
    def compact(text: str) -> str:
        return _SEPARATORS.sub("", text).upper()

    def is_valid(self, compact: str) -> bool:
        raise NotImplementedError

    def validate_result(self, pattern_text: str) -> bool | None:
        # True sets Presidio's maximum score, None keeps the pattern's score, False drops the match.
        if not self.is_valid(self.compact(pattern_text)):
            return False
        return True if self.CONCLUSIVE else None


def finding(
    recognizer: EntityRecognizer, entity: str, start: int, end: int, score: float, explanation: str
) -> RecognizerResult:
    """A result of one of deid's own (non-pattern) recognizers, with its explanation and metadata."""
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=AnalysisExplanation(
            recognizer=recognizer.name, original_score=score, textual_explanation=explanation
        ),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )
