"""NRP (nationality, religious or political group) from a systematic word list (`recognizers/data/nrp.txt`).

Presidio finds NRP only through its NER model; deid's small model knows a few dozen demonyms. The list
holds the demonym of every country plus peoples, religions and political group names. Matching is
case-sensitive on the written capital ("Sikh", "SIKH", never "roma" or "han" in lower case), on word
boundaries, longest phrase first ("Roman Catholic" before "Catholic").
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from recognizers.custom.base import finding

NRP_FILE = Path(__file__).resolve().parent.parent / "data" / "nrp.txt"


@functools.cache
def nrp_phrases() -> tuple[str, ...]:
    lines = NRP_FILE.read_text(encoding="utf-8").splitlines()
    phrases = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    return tuple(sorted(phrases, key=lambda p: (-len(p), p)))


@functools.cache
def _pattern() -> re.Pattern[str]:
    forms = sorted({form for p in nrp_phrases() for form in (p, p.upper())}, key=lambda p: (-len(p), p))
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w'])")


class NrpRecognizer(LocalRecognizer):
    """NRP: a listed nationality, people, religion or political group, as written with its capital."""

    ENTITY = "NRP"
    SCORE = 0.5
    CONTEXT = ("national", "nationality", "citizen", "religion", "faith", "practising", "practicing", "member",
               "community", "descent", "origin", "ethnic", "party", "voter", "believer")  # fmt: skip

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            context=list(self.CONTEXT),
            name=type(self).__name__,
        )

    def load(self) -> None:
        self.pattern = _pattern()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            finding(self, self.ENTITY, m.start(), m.end(), self.SCORE, "listed nationality, religion or group")
            for m in self.pattern.finditer(text)
        ]
