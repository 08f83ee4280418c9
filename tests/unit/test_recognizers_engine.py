"""The NLP engine choice: installed spaCy model, else deid's offline model, else blank; never a download.

Models here are real spaCy pipelines saved to disk (a blank English pipeline with an entity ruler),
standing in for en_core_web_* and deid's trained model, which this machine does not have.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import spacy

from deid.errors import ConfigError
from deid.settings import Settings, SettingsError, load_settings
from recognizers import MIN_SCORE, build_analyzer
from recognizers.analyzer import DeidAnalyzerEngine, build_registry
from recognizers.engine import LANGUAGE, ModelProbe, OfflineSpacyNlpEngine, choose_engine, create_nlp_engine


class Probe(ModelProbe):
    """What a machine has installed: these spaCy packages and this deid model directory."""

    def __init__(self, spacy_models: list[str] | None = None, deid_dir: Path | None = None) -> None:
        self.spacy_models = spacy_models or []
        self.deid_dir = deid_dir

    def installed_spacy_models(self) -> list[str]:
        return self.spacy_models

    def deid_model(self) -> tuple[Path | None, str]:
        return (self.deid_dir, "") if self.deid_dir else (None, "the offline model is missing")


def save_pipeline(path: Path, labels: dict[str, str]) -> Path:
    """A real spaCy pipeline whose NER is an entity ruler: phrase -> label."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": phrase} for phrase, label in labels.items()])  # type: ignore[attr-defined]
    nlp.to_disk(path)
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_auto_prefers_the_largest_installed_spacy_model(tmp_path: Path) -> None:
    choice = choose_engine("auto", Probe(["en_core_web_md", "en_core_web_sm"], deid_dir=tmp_path))
    assert (choice.kind, choice.model) == ("spacy", "en_core_web_md")
    assert choice.labels["GPE"] == "LOCATION" and "ORG" in choice.ignored
    assert "auto" in choice.describe()


def test_auto_falls_back_to_deid_model_then_blank(tmp_path: Path) -> None:
    deid = choose_engine("auto", Probe(deid_dir=tmp_path))
    assert (deid.kind, deid.model, deid.detects_names) == ("deid", str(tmp_path), True)
    assert deid.labels == {name: name for name in ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")}
    blank = choose_engine("auto", Probe())
    assert (blank.kind, blank.detects_names) == ("blank", False)
    assert "no spaCy English model installed" in blank.reason


def test_the_real_machine_probe_answers_without_error() -> None:
    probe = ModelProbe()
    assert set(probe.installed_spacy_models()) <= {"en_core_web_lg", "en_core_web_md", "en_core_web_sm"}
    path, why_not = probe.deid_model()
    assert (path is None) == bool(why_not)


def test_missing_models_are_config_errors_not_downloads(no_network: list[object]) -> None:
    with pytest.raises(ConfigError, match=r"nlp_engine=spacy:en_core_web_trf.*never downloads"):
        choose_engine("spacy:en_core_web_trf")
    with pytest.raises(ConfigError, match=r"nlp_engine=deid but the offline model is missing"):
        choose_engine("deid", Probe())
    with pytest.raises(ConfigError, match="never downloads"):
        OfflineSpacyNlpEngine._download_spacy_model_if_needed("en_core_web_lg")
    with pytest.raises(ConfigError, match="nlp_engine"):
        build_analyzer(Settings(), engine="spacy:en_core_web_trf")
    assert no_network == []


def test_spacy_pipeline_directory_maps_ontonotes_labels(tmp_path: Path, no_network: list[object]) -> None:
    model = save_pipeline(tmp_path / "onto", {"Lena Slagmolen": "PERSON", "Rotterdam": "GPE", "Acme Bank": "ORG"})
    analyzer = build_analyzer(Settings(), engine=f"spacy:{model}")
    text = "Lena Slagmolen of Acme Bank moved to Rotterdam."
    found = {(text[r.start : r.end], r.entity_type) for r in analyzer.analyze(text, language="en")}
    assert {("Lena Slagmolen", "PERSON"), ("Rotterdam", "LOCATION")} <= found
    assert not any(entity in {"ORG", "ORGANIZATION"} for _, entity in found)  # ignored, as in Presidio
    assert no_network == []


def test_deid_model_uses_presidio_names_directly(tmp_path: Path) -> None:
    model = save_pipeline(tmp_path / "deid_ner", {"Marta Kowalczyk": "PERSON", "Kraków": "LOCATION"})
    choice = choose_engine("deid", Probe(deid_dir=model))
    nlp_engine = create_nlp_engine(choice)
    analyzer = DeidAnalyzerEngine(
        registry=build_registry(nlp_engine, []), nlp_engine=nlp_engine, supported_languages=[LANGUAGE]
    )
    text = "Please ask Marta Kowalczyk from Kraków to call back on +48 601 234 567."
    found = {(text[r.start : r.end], r.entity_type) for r in analyzer.analyze(text, language="en")}
    assert {("Marta Kowalczyk", "PERSON"), ("Kraków", "LOCATION"), ("+48 601 234 567", "PHONE_NUMBER")} <= found


def test_blank_engine_keeps_patterns_and_context_words(caplog: pytest.LogCaptureFixture) -> None:
    choice = choose_engine("blank")
    with caplog.at_level("WARNING", logger="deid.recognizers"):
        nlp_engine = create_nlp_engine(choice)
    assert "PERSON and LOCATION will NOT be detected" in caplog.text
    assert nlp_engine.get_supported_entities() == ["PERSON", "LOCATION"]
    artifacts = nlp_engine.process_text("Her BSN is 422338035", LANGUAGE)
    assert "bsn" in artifacts.keywords  # blank spaCy has no lemmas; context matching uses the token text
    analyzer = build_analyzer(Settings(), engine="blank")
    bsn = [r for r in analyzer.analyze("Her BSN is 422338035", language="en") if r.entity_type == "NL_BSN"]
    assert bsn and bsn[0].score >= MIN_SCORE


def test_same_configuration_same_analyzer_and_one_loaded_pipeline(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first = build_analyzer(Settings(), engine="blank")
    assert build_analyzer(Settings(), engine="blank") is first
    other = build_analyzer(Settings(), engine="blank", extra_dirs=[tmp_path / "a"])
    assert other is not first
    assert other.nlp_engine is first.nlp_engine
    assert build_analyzer(Settings(nlp_engine="blank")) is first


def test_engine_setting_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_NLP_ENGINE", "spacy")
    with pytest.raises(SettingsError, match=r"DEID_NLP_ENGINE: expected auto, deid, blank or spacy:<model"):
        load_settings()
    monkeypatch.setenv("DEID_NLP_ENGINE", " spacy:en_core_web_sm ")
    assert load_settings().nlp_engine == "spacy:en_core_web_sm"
