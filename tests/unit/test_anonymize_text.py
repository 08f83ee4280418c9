"""anonymize_text through the real Presidio engine of `recognizers`: PII inside free text is replaced."""

from __future__ import annotations

import pytest

from deid.domains import load_registry
from deid.policy import AnonymizeTextParams
from deid.settings import Settings
from pipelines.transforms import FieldContext, TreatmentError
from pipelines.transforms.anonymize_text import AnonymizeText, NamesUndetectableError, TextAnalysis

MEMO = load_registry(Settings()).get("memo")


def compile_text(monkeypatch: pytest.MonkeyPatch, engine: str, **params: object):  # type: ignore[no-untyped-def]
    # The environment says otherwise: the worker's own settings decide (they are passed in, never read here).
    monkeypatch.setenv("DEID_NLP_ENGINE", "auto" if engine == "blank" else "blank")
    text = TextAnalysis(Settings(nlp_engine=engine))
    context = FieldContext("text", MEMO.fields["text"], MEMO, keystore=None, text_analysis=text)
    return AnonymizeText().compile(AnonymizeTextParams(**params), context)  # type: ignore[arg-type]


def test_pattern_entities_are_replaced_inside_text(monkeypatch: pytest.MonkeyPatch) -> None:
    treat = compile_text(monkeypatch, "blank", entities=["EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER"])
    text = "Please refund DE89 3704 0044 0532 0130 00 and mail anna.schmidt@example.de or call +49 30 1234567."
    out = treat(text, None)
    assert "DE89" not in out and "anna.schmidt" not in out and "1234567" not in out
    assert "<IBAN_CODE>" in out and "<EMAIL_ADDRESS>" in out and "<PHONE_NUMBER>" in out
    assert out.startswith("Please refund ")


def test_redact_operator_removes_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    treat = compile_text(monkeypatch, "blank", entities=["EMAIL_ADDRESS"], operator="redact")
    assert treat("write to a@example.org today", None) == "write to  today"


def test_text_without_findings_is_unchanged_and_non_strings_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    treat = compile_text(monkeypatch, "blank", entities=["EMAIL_ADDRESS"])
    assert treat("nothing to see here", None) == "nothing to see here"
    with pytest.raises(TreatmentError, match="needs a string"):
        treat(42, None)


def test_names_requested_with_a_blank_engine_refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NamesUndetectableError, match="cannot detect names"):
        compile_text(monkeypatch, "blank", entities=["PERSON", "EMAIL_ADDRESS"])
    with pytest.raises(NamesUndetectableError):
        compile_text(monkeypatch, "blank")  # all entities includes names
