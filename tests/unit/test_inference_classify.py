"""The classification rule, on per-field tallies: share, scores, field-name signal, free text."""

from __future__ import annotations

from deid.domains import Domain, FieldSpec
from deid.settings import load_settings
from recognizers import build_analyzer
from schema_inference.classify import (
    FREE_TEXT,
    NON_PII,
    Findings,
    Thresholds,
    analyze_values,
    decide,
    name_hints,
    name_words,
    sampled_values,
)
from schema_inference.draft import field_rule
from schema_inference.profile import Profile
from schema_inference.stats import FieldProfile


def field(path: str, tokens: float = 1.0, length: float = 10.0, kind: str | None = None) -> FieldProfile:
    profile = FieldProfile(
        path=path, name=path.rsplit(".", 1)[-1], count=100, nulls=0, missing=0, types={"string": 100}
    )
    profile.tokens_mean, profile.length_mean = tokens, length
    if kind:
        profile.kind, profile.format = kind, "%d-%m-%Y"
    return profile


def domain_with(path: str, spec: FieldSpec, subject: bool = True) -> Domain:
    """A domain declaring `path` (and a subject field when `subject`)."""
    fields = {path: spec, **({"subject": FieldSpec(type="string")} if subject else {})}
    return Domain(name="t", subject_field="subject" if subject else None, fields=fields)


def tally(total: int, *hits: tuple[str, int, float], findings_per_hit: int = 1) -> Findings:
    """`total` analysed values; for each (entity, n, score), n of them had that entity."""
    found = Findings()
    per_value: list[dict[str, float]] = [{} for _ in range(total)]
    for entity, n, score in hits:
        for index in range(n):
            per_value[index][entity] = score
    for best in per_value:
        found.add(best, len(best) * findings_per_hit)
    return found


def test_tv_titles_where_two_of_sixteen_look_like_names_stay_non_pii() -> None:
    decision = decide(field("tv_show"), tally(16, ("PERSON", 2, 0.85)))
    assert decision.entity == NON_PII
    assert decision.confidence == 0.88  # 1 - 2/16
    assert "PERSON in 2/16" in decision.explanation and "no name signal" in decision.explanation


def test_a_user_id_column_full_of_user_ids_is_user_id() -> None:
    decision = decide(field("user_id"), tally(1000, ("USER_ID", 1000, 0.9)))
    assert decision.entity == "USER_ID" and decision.share == 1.0
    assert decision.confidence == 0.99  # 0.6 + 0.36 + name bonus, capped
    assert decision.name_signal == "user id (user_id)"
    assert field_rule(decision, domain_with("user_id", FieldSpec(type="string"))).treatment == "encrypt"


def test_a_phone_named_column_at_40_percent_is_phone_number() -> None:
    decision = decide(field("a_party"), tally(100, ("PHONE_NUMBER", 40, 0.75)))
    assert decision.entity == "PHONE_NUMBER"
    assert ">= 30% with the name" in decision.explanation
    # the same values under a name that says nothing: not enough
    assert decide(field("col7"), tally(100, ("PHONE_NUMBER", 40, 0.75))).entity == NON_PII
    # and below the name threshold, even the name does not decide
    assert decide(field("a_party"), tally(100, ("PHONE_NUMBER", 20, 0.75))).entity == NON_PII


def test_the_name_picks_its_entity_over_a_more_frequent_other_one() -> None:
    decision = decide(field("mobile"), tally(100, ("US_BANK_NUMBER", 70, 0.4), ("PHONE_NUMBER", 50, 0.7)))
    assert decision.entity == "PHONE_NUMBER"
    assert decide(field("amount"), tally(100, ("US_BANK_NUMBER", 70, 0.4))).entity == "US_BANK_NUMBER"


def test_memo_text_is_free_text_with_its_entities() -> None:
    memo = field("text", tokens=40, length=260)
    decision = decide(memo, tally(200, ("PERSON", 150, 0.85), ("PHONE_NUMBER", 60, 0.7), ("IBAN_CODE", 2, 1.0)))
    assert decision.entity == FREE_TEXT
    assert decision.text_entities == ("PERSON", "PHONE_NUMBER")  # IBAN in 1% of memos: below the 2% floor
    rule = field_rule(decision, domain_with("text", FieldSpec(type="text"), subject=False))
    assert rule.treatment == "anonymize_text" and rule.params.entities == ["PERSON", "PHONE_NUMBER"]  # type: ignore[union-attr]
    # long text without entities is just text
    assert decide(memo, tally(200)).entity == NON_PII
    # a short column is never free text, whatever is in it
    assert decide(field("tv_show"), tally(200, ("PERSON", 150, 0.85))).entity == "PERSON"


def test_a_consistent_date_format_is_date_time() -> None:
    decision = decide(field("dob", kind="date"), Findings())
    assert decision.entity == "DATE_TIME" and decision.confidence == 0.99  # with the "dob" name bonus
    assert "%d-%m-%Y" in decision.explanation
    dob = FieldSpec(type="date", format="%d-%m-%Y")
    assert field_rule(decision, domain_with("dob", dob)).treatment == "date_shift"
    assert field_rule(decision, domain_with("dob", dob, subject=False)).treatment == "generalize"


def test_thresholds_can_be_tuned() -> None:
    findings = tally(10, ("EMAIL_ADDRESS", 5, 0.9))
    assert decide(field("contact"), findings).entity == NON_PII
    assert decide(field("contact"), findings, Thresholds(share=0.5)).entity == "EMAIL_ADDRESS"


def test_nothing_to_analyse_is_non_pii_at_half_confidence() -> None:
    decision = decide(field("email"), Findings())
    assert (decision.entity, decision.confidence) == (NON_PII, 0.5)


def test_field_name_words_and_hints_across_languages() -> None:
    assert name_words("customer.userId") == ["user", "id"]
    assert name_words("items[].E-Mail") == ["e", "mail"]
    cases = {
        "a_party": "phone",
        "Telefonnummer": "phone",  # compounds: the stem before a number/address suffix
        "emailadresse": "email",
        "telefon": "phone",
        "geburtsdatum": "birth date",
        "date_naissance": "birth date",
        "ssn_no": "national id",
        "pesel": "national id",
        "card_number": "card",
        "Karte": "card",
        "first_name": "person name",
        "nom": "person name",
        "ip_address": "ip address",
        "adresse": "address",
        "user_id": "user id",
        "eMail": "email",
        "channel_name": None,
        "movie_name": None,
        "tv_show": None,
        "hotel": None,
        "user_agent": None,
    }
    for name, category in cases.items():
        hints = name_hints(name)
        assert (hints[0].category if hints else None) == category, name


def test_findings_merge_like_one_tally() -> None:
    left, right = tally(10, ("PERSON", 4, 0.6)), tally(30, ("PERSON", 3, 0.9), ("LOCATION", 1, 0.5))
    merged = left.merge(right)
    assert (merged.analysed, merged.with_any, merged.findings) == (40, 7, 8)
    assert merged.entities["PERSON"].values == 7 and merged.entities["PERSON"].score_max == 0.9
    assert round(merged.entities["PERSON"].mean_score, 4) == round((4 * 0.6 + 3 * 0.9) / 7, 4)


def test_sampled_values_are_analysed_once_per_value_with_one_analyzer() -> None:
    built = []

    def factory() -> object:
        built.append(1)
        return build_analyzer(load_settings())

    profile = Profile(100, seed=1)
    profile.add_all(
        (f'{{"user_id": "user-{i:05d}", "show": "Barry", "ok": true, "note": ""}}'.encode(), 0, i) for i in range(50)
    )
    pairs = list(sampled_values(profile.summary()))
    assert {path for path, _ in pairs} == {"user_id", "show"}  # booleans and empty strings are not analysed
    tallies = dict(analyze_values(pairs, factory))
    assert built == [1]
    # One title repeated 50 times is analysed once: all or none of its values have a finding. (Whether a
    # name-shaped title is a person is the field's structural decision, not this per-value analysis.)
    assert tallies["user_id"].share("USER_ID") == 1.0 and tallies["show"].analysed == 50
    assert tallies["show"].with_any in (0, 50)
