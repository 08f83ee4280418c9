"""`build_analyzer(settings)`: the one Presidio AnalyzerEngine of a process, with deid's recognizers in it.

Contents: Presidio's predefined English recognizers (with PhoneRecognizer and EmailRecognizer swapped
for deid's EU-wide and offline versions), deid's own recognizers (`recognizers.custom`), the YAML
recognizers of `recognizers/yaml/` plus the folders of the `recognizer_dirs` setting, and the NER
recognizer of the chosen NLP engine (`recognizers.engine`).

Built once per process per configuration (engine setting + YAML folders): schema inference calls it
once per Spark partition, the pipelines once per worker; both get the same object back. The loaded
spaCy pipeline is shared by every analyzer of the process.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult

from deid.settings import Settings
from recognizers.custom import CUSTOM_RECOGNIZERS, REPLACED_BUILTINS
from recognizers.engine import LANGUAGE, EngineChoice, OfflineSpacyNlpEngine, choose_engine, create_nlp_engine
from recognizers.fast import FastContextEnhancer, analyze_fast
from recognizers.yaml_loader import PACKAGE_YAML_DIR, load_yaml_recognizers

MIN_SCORE = 0.35
"""The score from which a result counts as a finding: the bench scores at it, and it is the sensible
default threshold for callers. Bare numbers whose only evidence is a weak check digit (a 9-digit
11-proof BSN, an 11-digit Steuer-IdNr, a bare national phone number) score 0.3 and need a context word
to pass it."""

logger = logging.getLogger("deid.recognizers")
_lock = threading.Lock()


class DeidAnalyzerEngine(AnalyzerEngine):
    """Presidio's AnalyzerEngine minus shadowed results.

    A result lying strictly inside a result of another entity that scores at least as high is dropped
    (US_DRIVER_LICENSE 0.01 inside a phone number, the URL inside an e-mail address), and so is a
    reading below MIN_SCORE of exactly the span another entity claims with a higher score (the
    bare-digits phone reading of a valid card number). Two findings of the same span (a grouped IMEI
    that is also a valid phone number) are both kept: the anonymizer picks one, inference sees both.

    With `fast` (the default) a plain call (no ad hoc recognizers, allow list or decision process) goes
    through `recognizers.fast.analyze_fast`: Presidio's results for less time (see that module).
    """

    def __init__(self, *args: Any, fast: bool = True, **kwargs: Any) -> None:
        if fast:
            kwargs.setdefault("context_aware_enhancer", FastContextEnhancer())
        super().__init__(*args, **kwargs)
        self.fast = fast

    def analyze(self, text: str, *args: Any, **kwargs: Any) -> list[RecognizerResult]:
        plain = not args and "language" in kwargs and _FAST_KEYS.issuperset(kwargs)
        if self.fast and plain and not self.log_decision_process:
            results = analyze_fast(
                self,
                text,
                kwargs["language"],
                kwargs.get("entities"),
                kwargs.get("score_threshold"),
                kwargs.get("context"),
                kwargs.get("nlp_artifacts"),
            )
        else:
            results = super().analyze(text, *args, **kwargs)
        return drop_shadowed(results, text)

    def get_supported_entities(self, language: str | None = None) -> list[str]:
        # Presidio recomputes this, with an INFO log line, on every analyze() without `entities`:
        # one log line per analysed value. Computed once per registry size instead.
        cache: dict[tuple[str | None, int], list[str]] = self.__dict__.setdefault("_entities", {})
        key = (language, len(self.registry.recognizers))
        if key not in cache:
            with _quiet_presidio():
                cache[key] = super().get_supported_entities(language)
        return list(cache[key])


_FAST_KEYS = frozenset({"language", "entities", "score_threshold", "context", "nlp_artifacts", "correlation_id"})
NER_RECOGNIZERS = frozenset({"SpacyRecognizer"})
EVIDENCE_SCORE = 0.5
"""A checked or shaped finding from this score overrides an NER reading of another entity that overlaps it:
the model calls "Ngozi Balogun" a place or "Tel. 0172 6896682" a company; a valid phone number, a card
number passing Luhn, a written date or a titled name are better evidence than a small model's label."""


def drop_shadowed(results: list[RecognizerResult], text: str | None = None) -> list[RecognizerResult]:
    kept: list[RecognizerResult] = []
    for result in results:
        evidence = [other for other in results if _overridden(other, result)]
        if not evidence:
            kept.append(result)
        elif text is not None:
            kept += _remainders(result, evidence, text)
    return [result for result in kept if not any(_shadows(other, result) for other in kept)]


_WORD = re.compile(r"\w+")


def _remainders(result: RecognizerResult, evidence: list[RecognizerResult], text: str) -> list[RecognizerResult]:
    """What an overridden NER reading covers beyond the evidence, when that is two words or more: the model's
    "Vicolo Nordio, 829, 24016 San Pellegrino Terme" minus a name-shaped "Pellegrino Terme" is still an
    address; "TEL " left of a phone number is nothing."""
    pieces: list[RecognizerResult] = []
    start = result.start
    for other in sorted(evidence, key=lambda r: r.start):
        pieces += _piece(result, start, min(other.start, result.end), text)
        start = max(start, other.end)
    pieces += _piece(result, start, result.end, text)
    return pieces


def _piece(result: RecognizerResult, start: int, end: int, text: str) -> list[RecognizerResult]:
    words = list(_WORD.finditer(text, start, end)) if end > start else []
    if len(words) < 2:
        return []
    return [
        RecognizerResult(
            result.entity_type,
            words[0].start(),
            words[-1].end(),
            result.score,
            result.analysis_explanation,
            result.recognition_metadata,
        )
    ]


def _recognizer(result: RecognizerResult) -> str:
    return str((result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, ""))


def _overridden(other: RecognizerResult, result: RecognizerResult) -> bool:
    return (
        other.entity_type != result.entity_type
        and _recognizer(result) in NER_RECOGNIZERS
        and _recognizer(other) not in NER_RECOGNIZERS
        and other.score >= EVIDENCE_SCORE
        and other.start < result.end
        and result.start < other.end
    )


def _shadows(other: RecognizerResult, result: RecognizerResult) -> bool:
    if other.entity_type == result.entity_type or not (other.start <= result.start and result.end <= other.end):
        return False
    if (other.start, other.end) == (result.start, result.end):
        return result.score < MIN_SCORE and other.score > result.score
    return other.score >= result.score


_analyzers: dict[tuple[str, tuple[Path, ...]], DeidAnalyzerEngine] = {}


@contextmanager
def _quiet_presidio() -> Iterator[None]:
    """Presidio logs a line per recognizer it loads, removes or skips (non-English); deid logs one summary."""
    presidio = logging.getLogger("presidio-analyzer")
    level = presidio.level
    presidio.setLevel(logging.ERROR)
    try:
        yield
    finally:
        presidio.setLevel(level)


@cache
def _engine_choice(spec: str) -> EngineChoice:
    return choose_engine(spec)


@cache
def _nlp_engine(choice: EngineChoice) -> OfflineSpacyNlpEngine:
    # Logs the choice: once per process per engine.
    return create_nlp_engine(choice)


def engine_choice(settings: Settings, *, engine: str | None = None) -> EngineChoice:
    """The NLP engine `build_analyzer` uses for these settings (kind, model, reason, detects_names)."""
    return _engine_choice(engine or settings.nlp_engine)


def yaml_dirs(settings: Settings, extra_dirs: Iterable[Path | str] = ()) -> tuple[Path, ...]:
    """The YAML recognizer folders in force: the package's own, then the configured ones, then extra."""
    folders = [PACKAGE_YAML_DIR, *settings.recognizer_dirs, *(Path(d) for d in extra_dirs)]
    return tuple(dict.fromkeys(folder.expanduser().resolve() for folder in folders))


def build_registry(nlp_engine: OfflineSpacyNlpEngine, folders: Iterable[Path]) -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    registry.load_predefined_recognizers(languages=[LANGUAGE], nlp_engine=nlp_engine)
    for builtin, replacement in REPLACED_BUILTINS.items():
        registry.remove_recognizer(builtin)
        registry.add_recognizer(replacement(supported_language=LANGUAGE))
    for recognizer_class in CUSTOM_RECOGNIZERS.values():
        registry.add_recognizer(recognizer_class(supported_language=LANGUAGE))
    for recognizer in load_yaml_recognizers(folders):
        registry.add_recognizer(recognizer)
    return registry


def build_analyzer(
    settings: Settings, *, engine: str | None = None, extra_dirs: Iterable[Path | str] = ()
) -> DeidAnalyzerEngine:
    """The process's AnalyzerEngine for this configuration (built on first call, then reused).

    `engine` overrides the `nlp_engine` setting; `extra_dirs` adds YAML recognizer folders. Raises
    ConfigError for a missing model, a missing folder or a bad YAML file (naming the file and key).
    """
    spec = engine or settings.nlp_engine
    folders = yaml_dirs(settings, extra_dirs)
    key = (spec, folders)
    with _lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            nlp_engine = _nlp_engine(_engine_choice(spec))
            with _quiet_presidio():
                registry = build_registry(nlp_engine, folders)
                analyzer = DeidAnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
            logger.info(
                "Presidio analyzer ready: %d recognizers, YAML from %s",
                len(registry.recognizers),
                ", ".join(str(folder) for folder in folders),
            )
            _analyzers[key] = analyzer
        return analyzer
