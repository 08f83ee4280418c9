"""anonymize_text through the real Presidio engine of `recognizers`: PII inside free text is replaced."""

from __future__ import annotations

import pytest

from deid.domains import load_registry
from deid.policy import AnonymizeTextParams, Policy
from deid.settings import Settings
from pipelines.plan import compile_policy
from pipelines.transforms import FieldContext, TreatmentError
from pipelines.transforms.anonymize_text import AnonymizeText, NamesUndetectableError, TextAnalysis
from producers.registry import generator_for

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


# --- batched: one analyzer pass per consumed batch -------------------------------------------------------


def _memo_plan(settings: Settings):  # type: ignore[no-untyped-def]
    policy = Policy.from_yaml(
        "domain: memo\nrules:\n  memo_id: {treatment: keep}\n  created_at: {treatment: keep}\n"
        "  text: {treatment: anonymize_text}\n"
    )
    return compile_policy(policy, MEMO, keystore=None, text_analysis=TextAnalysis(settings))  # type: ignore[arg-type]


def test_a_prepared_batch_gives_what_one_call_per_memo_gives() -> None:
    settings = Settings(nlp_engine="deid")
    generator = generator_for(MEMO, 5)
    memos = [generator.event() for _ in range(12)]
    memos += [dict(memos[0], memo_id="again"), {"memo_id": "x", "created_at": None, "text": ""}]
    per_memo = _memo_plan(settings)
    expected = [per_memo.apply(record) for record in memos]
    batched = _memo_plan(settings)
    batched.prepare_batch(memos)
    text_fn = batched._main.root.plain[-1][1]
    analysed_before = text_fn.analysed
    assert analysed_before == 12  # 13 texts, one repeated, one empty: 12 analysed, in one pass
    assert [batched.apply(record) for record in memos] == expected
    assert text_fn.analysed == analysed_before and text_fn.reused == 13  # nothing analysed again per record
    assert any("<PERSON>" in out["text"] for out in expected)  # the memos do carry names, and they went


def test_a_failing_value_still_fails_per_record_after_prepare() -> None:
    plan = _memo_plan(Settings(nlp_engine="deid"))
    records = [{"memo_id": "a", "created_at": None, "text": 42}, {"memo_id": "b", "created_at": None, "text": "ok"}]
    plan.prepare_batch(records)  # a number is not a text: skipped here, rejected by apply
    with pytest.raises(TreatmentError, match="needs a string"):
        plan.apply(records[0])
    assert plan.apply(records[1])["text"] == "ok"
