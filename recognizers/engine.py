"""Which NLP engine finds names and places, chosen once, offline, and said out loud.

Presidio's `SpacyNlpEngine.load()` calls `spacy.cli.download()` for a model that is not installed. deid
never downloads anything at run time: the choice below only ever names a model that is installed (a
spaCy package or a directory with `meta.json`), and `OfflineSpacyNlpEngine` loads it itself, with the
download hook replaced by an error.

Setting `nlp_engine` (`DEID_NLP_ENGINE`):
- `auto`: an installed `en_core_web_lg`, then `md`, then `sm`; else deid's own offline model
  (`recognizers.ner.MODEL_DIR`); else a blank English pipeline (patterns only; names and places are
  not detected, and a warning says so).
- `spacy:<model>`: that installed spaCy package, or a pipeline directory saved with `nlp.to_disk()`.
- `deid`: deid's offline model; an error when it is missing.
- `blank`: patterns only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc

from deid.errors import ConfigError
from recognizers.ner import MODEL_DIR, model_available

logger = logging.getLogger("deid.recognizers")

LANGUAGE = "en"
SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")
NAME_ENTITIES = ("PERSON", "LOCATION")
BLANK_WARNING = (
    "no NER model is available: PERSON and LOCATION will NOT be detected (patterns only). "
    "Install en_core_web_lg/md/sm with pip or ship deid's offline model (scripts/train-ner)."
)

# An installed spaCy English model speaks OntoNotes labels: Presidio's own spaCy mapping
# (presidio_analyzer/conf/spacy.yaml), ORG ignored there for its false positives, and so here.
SPACY_LABELS = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "ORG": "ORGANIZATION",
    "ORGANIZATION": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
SPACY_IGNORED = (
    "ORG",
    "ORGANIZATION",
    "CARDINAL",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "WORK_OF_ART",
)
# deid's offline model is trained on Presidio's names directly (identity mapping).
DEID_LABELS = {name: name for name in ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")}

# spaCy lists "call" as a stop word, and Presidio drops stop words before matching context words, so
# "Please call Anna back on 0612345678" would not count as phone context. Kept as a keyword here.
CONTEXT_STOP_WORDS = frozenset({"call"})

EngineKind = Literal["spacy", "deid", "blank"]


@dataclass(frozen=True)
class EngineChoice:
    """The NLP engine in force and why it was chosen."""

    kind: EngineKind
    model: str
    """spaCy package name, pipeline directory, or `blank:en`."""
    reason: str
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    ignored: tuple[str, ...] = ()

    @property
    def detects_names(self) -> bool:
        return self.kind != "blank"

    def describe(self) -> str:
        what = {"spacy": "spaCy model", "deid": "deid offline NER model", "blank": "blank English pipeline"}
        return f"NLP engine: {what[self.kind]} {self.model} ({self.reason})"


class ModelProbe:
    """What is installed on this machine (a seam so tests can point at a real model saved elsewhere)."""

    def installed_spacy_models(self) -> list[str]:
        return [name for name in SPACY_MODELS if spacy.util.is_package(name)]

    def deid_model(self) -> tuple[Path | None, str]:
        """deid's offline model directory if usable, else None and why not."""
        if not model_available():
            return None, f"the offline model is missing from {MODEL_DIR}"
        return Path(MODEL_DIR), ""


def _spacy_choice(model: str, reason: str) -> EngineChoice:
    return EngineChoice("spacy", model, reason, SPACY_LABELS, SPACY_IGNORED)


def _deid_choice(path: Path, reason: str) -> EngineChoice:
    return EngineChoice("deid", str(path), reason, DEID_LABELS)


def _blank_choice(reason: str) -> EngineChoice:
    return EngineChoice("blank", f"blank:{LANGUAGE}", reason)


def choose_engine(spec: str = "auto", probe: ModelProbe | None = None) -> EngineChoice:
    """Resolve the `nlp_engine` setting to an installed engine, or raise ConfigError saying what is missing."""
    probe = probe or ModelProbe()
    spec = spec.strip()
    if spec == "blank":
        return _blank_choice("nlp_engine=blank")
    if spec == "deid":
        path, why_not = probe.deid_model()
        if path is None:
            raise ConfigError(f"nlp_engine=deid but {why_not}; rebuild it with scripts/train-ner or choose auto")
        return _deid_choice(path, "nlp_engine=deid")
    if spec.startswith("spacy:"):
        model = spec.removeprefix("spacy:")
        if spacy.util.is_package(model):
            return _spacy_choice(model, f"nlp_engine={spec}")
        if (Path(model) / "meta.json").is_file():
            return _spacy_choice(str(Path(model).resolve()), f"nlp_engine={spec}")
        raise ConfigError(
            f"nlp_engine={spec}: no installed spaCy package or pipeline directory (with meta.json) named "
            f"{model!r}; deid never downloads models: install it with pip, or use auto, deid or blank"
        )
    if spec != "auto":
        raise ConfigError(f"nlp_engine: expected auto, deid, blank or spacy:<model>, got {spec!r}")
    installed = probe.installed_spacy_models()
    if installed:
        return _spacy_choice(installed[0], "auto: the largest installed spaCy English model")
    path, why_not = probe.deid_model()
    if path is not None:
        return _deid_choice(path, "auto: no spaCy English model installed, using deid's offline model")
    return _blank_choice(f"auto: no spaCy English model installed and {why_not}")


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine that loads exactly the chosen pipeline and can never download one."""

    def __init__(self, choice: EngineChoice, default_score: float = 0.85, *, fast: bool = True) -> None:
        configuration = NerModelConfiguration(
            model_to_presidio_entity_mapping=dict(choice.labels),
            labels_to_ignore=list(choice.ignored),
            default_score=default_score,
        )
        super().__init__(
            models=[{"lang_code": LANGUAGE, "model_name": choice.model}],
            ner_model_configuration=configuration,
        )
        self.choice = choice
        self.fast = fast
        self._lemmas: LookupLemmas | None = None
        self._keywords: dict[str, tuple[str, ...]] = {}

    def load(self) -> None:
        nlp = self._load_pipeline()
        if self.fast:
            # A lookup lemmatizer sets a lemma on every token of every text through Python calls per token
            # (5-7% of the pipeline's CPU measured in one run); the artifacts need each token's lemma once,
            # so the same lookup happens while building them instead, in one loop.
            self._lemmas = LookupLemmas.take_over(nlp)
        self.nlp = {LANGUAGE: nlp}

    def _load_pipeline(self) -> Language:
        if self.choice.kind == "blank":
            return spacy.blank(LANGUAGE)
        # Only names that choose_engine() found installed reach here: spacy.load reads them locally.
        return spacy.load(self.choice.model)

    @staticmethod
    def _download_spacy_model_if_needed(model_name: str) -> None:
        raise ConfigError(f"spaCy model {model_name!r} is not installed and deid never downloads models")

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() not in CONTEXT_STOP_WORDS and super().is_stopword(word, language)

    def get_supported_entities(self) -> list[str]:
        if self.choice.kind == "blank":
            # Declared so that requests naming PERSON/LOCATION stay valid; nothing will be found.
            return list(NAME_ENTITIES)
        return super().get_supported_entities()

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
        # A pipeline without a lemmatizer (blank, or deid's model) leaves lemma_ empty; context words
        # are matched against lemmas, so fall back to the lower-cased token text.
        lemmas = self._lemmas(doc) if self._lemmas is not None else [t.lemma_ or t.lower_ for t in doc]
        artifacts = NlpArtifacts if not self.fast else _CachedKeywordArtifacts
        return artifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=lemmas,
            nlp_engine=self,
            language=language,
            scores=scores,
        )

    def keywords(self, lemmas: list[str], language: str) -> list[str]:
        """`NlpArtifacts.set_keywords`, remembered per lemma (two vocabulary look-ups per token otherwise)."""
        cache = self._keywords
        if len(cache) > KEYWORD_CACHE:
            cache.clear()
        out: list[str] = []
        for lemma in lemmas:
            parts = cache.get(lemma)
            if parts is None:
                parts = tuple(NlpArtifacts.set_keywords(self, [lemma], language))
                cache[lemma] = parts
            out += parts
        return out


KEYWORD_CACHE = 200_000


class _CachedKeywordArtifacts(NlpArtifacts):
    @staticmethod
    def set_keywords(nlp_engine: Any, lemmas: list[str], language: str) -> list[str]:
        if isinstance(nlp_engine, OfflineSpacyNlpEngine):
            return nlp_engine.keywords(lemmas, language)
        return NlpArtifacts.set_keywords(nlp_engine, lemmas, language)


class LookupLemmas:
    """What spaCy's lookup lemmatizer sets (`lemma_lookup.get(text, text)`, first of a list; a lemma already
    set stays unless the component overwrites), computed from a disabled lemmatizer's own table."""

    def __init__(self, table: dict[int, Any], overwrite: bool) -> None:
        self.table = table
        self.overwrite = overwrite

    @classmethod
    def take_over(cls, nlp: Language) -> LookupLemmas | None:
        if "lemmatizer" not in nlp.pipe_names:
            return None
        lemmatizer: Any = nlp.get_pipe("lemmatizer")
        kind = type(lemmatizer)
        if not (
            isinstance(lemmatizer, Lemmatizer)
            and lemmatizer.mode == "lookup"
            and kind.__call__ is Lemmatizer.__call__
            and kind.lookup_lemmatize is Lemmatizer.lookup_lemmatize
        ):
            return None  # a rule lemmatizer needs POS tags, a custom one knows better: it stays in the pipeline
        table = lemmatizer.lookups.get_table("lemma_lookup", {})
        nlp.disable_pipe("lemmatizer")
        return cls(dict(table.items()), bool(lemmatizer.overwrite))

    def __call__(self, doc: Doc) -> list[str]:
        table, overwrite = self.table, self.overwrite
        lemmas = []
        for token in doc:
            if overwrite or token.lemma == 0:
                found = table.get(token.orth)
                lemma = token.text if found is None else (found if isinstance(found, str) else found[0])
            else:
                lemma = token.lemma_
            lemmas.append(lemma or token.lower_)
        return lemmas


def create_nlp_engine(choice: EngineChoice) -> OfflineSpacyNlpEngine:
    engine = OfflineSpacyNlpEngine(choice)
    engine.load()
    if choice.detects_names:
        logger.info(choice.describe())
    else:
        logger.warning("%s: %s", choice.describe(), BLANK_WARNING)
    return engine
