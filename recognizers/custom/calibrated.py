"""Presidio built-ins whose scores deid recalibrates.

Presidio's NhsRecognizer gives any 10-digit number passing the NHS mod-11 check the maximum score. One
in eleven random 10-digit numbers passes, so 8% of EU phone numbers ("029 5497661", "0604277601")
became certain NHS numbers and hid the phone number. Here a bare pass is a guess (0.3, below
`MIN_SCORE`) until a context word ("NHS", "health service") is near, as for deid's own weak checks.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import NhsRecognizer


class CalibratedNhsRecognizer(NhsRecognizer):
    """UK_NHS: 10 digits (3-3-4) passing the NHS check digit; needs context to count as a finding."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            patterns=[
                Pattern("NHS (weak: 1 in 11 numbers pass)", r"\b([0-9]{3})[- ]?([0-9]{3})[- ]?([0-9]{4})\b", 0.3)
            ],
            supported_language=supported_language,
            name=type(self).__name__,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # None keeps the pattern's 0.3 (Presidio's True would set 1.0); False drops the match.
        return None if super().validate_result(pattern_text) else False
