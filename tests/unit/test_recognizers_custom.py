"""deid's recognizers find true cases and reject near misses, through the real analyzer.

Identifiers here are synthetic: generated with valid check digits, belonging to nobody.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import AnalyzerEngine

from deid.settings import Settings
from recognizers import MIN_SCORE, build_analyzer
from recognizers.custom.cards import CustomCreditCardRecognizer, ImeiRecognizer
from recognizers.custom.national_ids import BsnRecognizer, PeselRecognizer


@pytest.fixture(scope="module")
def analyzer() -> AnalyzerEngine:
    return build_analyzer(Settings(), engine="blank")


def findings(analyzer: AnalyzerEngine, text: str, entity: str) -> dict[str, float]:
    """Matched text -> score, for one entity."""
    return {text[r.start : r.end]: r.score for r in analyzer.analyze(text, language="en") if r.entity_type == entity}


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


POSITIVES = [
    ("USER_ID", "Ticket opened by user-48213 about billing.", "user-48213"),
    ("USER_ID", "user-12345", "user-12345"),
    ("CUSTOM_CREDIT_CARD", "Paid with 374658169983957.", "374658169983957"),
    ("CUSTOM_CREDIT_CARD", "Card 3473 540178 03068 on file", "3473 540178 03068"),
    ("IMEI", "Device IMEI 35-572528-727642-5 was blocked.", "35-572528-727642-5"),
    ("IMEI", "IMEI: 017755392558193", "017755392558193"),
    ("EU_VAT", "BTW NL254101744B01", "NL254101744B01"),
    ("EU_VAT", "USt-IdNr. DE 924 513 335", "DE 924 513 335"),
    ("EU_VAT", "TVA FR03266324458", "FR03266324458"),
    ("EU_VAT", "UID ATU59916808", "ATU59916808"),
    ("EU_VAT", "P.IVA IT41496700919", "IT41496700919"),
    ("EU_VAT", "NIP PL3374239068", "PL3374239068"),
    ("EU_VAT", "BE0967222335", "BE0967222335"),
    ("DE_TAX_ID", "Steuer-ID: 59 040 127 034", "59 040 127 034"),
    ("DE_TAX_ID", "Steueridentifikationsnummer 30213786436", "30213786436"),
    ("FR_NIR", "Numéro de sécurité sociale : 1 98 03 79 913 114 91", "1 98 03 79 913 114 91"),
    ("FR_NIR", "259028600331933", "259028600331933"),
    ("NL_BSN", "BSN 422338035", "422338035"),
    ("NL_BSN", "Burgerservicenummer: 9836.57.464", "9836.57.464"),
    ("PL_PESEL", "PESEL 85012300731", "85012300731"),
    ("PHONE_NUMBER", "Call me on +49 30 901820 tomorrow.", "+49 30 901820"),
    ("PHONE_NUMBER", "Tel. 0044 20 7946 0958", "0044 20 7946 0958"),
    ("PHONE_NUMBER", "+33 (0)1 41 63 60 83", "+33 (0)1 41 63 60 83"),
    ("PHONE_NUMBER", "Her mobile is 06 12 34 56 78.", "06 12 34 56 78"),
    ("PHONE_NUMBER", "(030) 1234567", "(030) 1234567"),
    ("PHONE_NUMBER", "020-1234567", "020-1234567"),
    ("PHONE_NUMBER", "612 345 678", "612 345 678"),
    ("PHONE_NUMBER", "+48 601 234 567", "+48 601 234 567"),
    ("PHONE_NUMBER", "Chiamami al 347 123 4567", "347 123 4567"),
    ("PHONE_NUMBER", "0612345678 / 0698765432", "0612345678"),
    ("PHONE_NUMBER", "0612345678 / 0698765432", "0698765432"),
    ("MAC_ADDRESS", "Router MAC 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
    ("MAC_ADDRESS", "hardware address 0012.3456.789a", "0012.3456.789a"),
    ("EMAIL_ADDRESS", "Write to lena.smit@example.nl please.", "lena.smit@example.nl"),
    ("DATE_TIME", "She was born 22 July 1943 in Lyon.", "22 July 1943"),
    ("DATE_TIME", "Signed on October 22, 2023.", "October 22, 2023"),
    ("DATE_TIME", "Geboren am 3. März 2021", "3. März 2021"),
    ("DATE_TIME", "nacido el 22 de julio de 1943", "22 de julio de 1943"),
]

NEAR_MISSES = [
    ("USER_ID", "superuser-48213 is an admin"),
    ("USER_ID", "user_48213 and user-12 and user-abcde"),
    ("CUSTOM_CREDIT_CARD", "Reference 347354017803069"),  # Luhn fails
    ("CUSTOM_CREDIT_CARD", "Number 355725287276425"),  # Luhn passes, not a card prefix (an IMEI)
    ("CUSTOM_CREDIT_CARD", "Card 3746581699839570"),  # 16 digits
    ("IMEI", "IMEI 017755392558194"),  # Luhn fails
    ("IMEI", "IMEI 201755392558199"),  # Luhn passes, no reporting body 20
    ("IMEI", "IMEI 01775539255819"),  # 14 digits
    ("EU_VAT", "VAT DE924513336"),  # check digit
    ("EU_VAT", "VAT DE12345678 and IT123"),  # lengths
    ("EU_VAT", "VAT XX924513335"),  # no such country
    ("EU_VAT", "it is fine, be careful, de facto"),
    ("DE_TAX_ID", "Steuer-ID 30213786437"),  # check digit
    ("DE_TAX_ID", "Steuer-ID 03021378643"),  # leading zero
    ("FR_NIR", "NIR 259028600331934"),  # key
    ("FR_NIR", "NIR 559028600331933"),  # first digit
    ("NL_BSN", "BSN 422338036"),  # 11-proof
    ("NL_BSN", "BSN 4223380351"),  # 10 digits
    ("PL_PESEL", "PESEL 85012300732"),  # check digit
    ("PL_PESEL", "PESEL 85132300739"),  # month 13 (check digit right)
    ("PHONE_NUMBER", "Meeting on 23-08-2020 and 12.10.2020 at 12:30."),
    ("PHONE_NUMBER", "VAT DE136695976"),  # digits glued to letters
    ("PHONE_NUMBER", "Order 12345678, EUR 1218,49"),
    ("PHONE_NUMBER", "+49 12"),
    ("PHONE_NUMBER", "Steuer-ID: 59 040 127 034"),  # a valid Luxembourg number, but not written as a phone
    ("PHONE_NUMBER", "2024-10-22T19:20:03.679915+0000"),
    ("MAC_ADDRESS", "Build finished at 12:30:45 with code 00:1A:2B:3C:4D"),
    ("MAC_ADDRESS", "00:1A:2B-3C:4D:5E and FF:FF:FF:FF:FF:FF"),
    ("EMAIL_ADDRESS", "The handle lena@home is not an address."),
    ("DATE_TIME", "May I call on the 3rd? The March figures are in."),
]


@pytest.mark.parametrize(("entity", "text", "value"), POSITIVES)
def test_finds_true_cases(analyzer: AnalyzerEngine, entity: str, text: str, value: str) -> None:
    found = findings(analyzer, text, entity)
    assert value in found, f"{entity} not found in {text!r}: {found}"
    assert found[value] >= MIN_SCORE


@pytest.mark.parametrize(("entity", "text"), NEAR_MISSES)
def test_rejects_near_misses(analyzer: AnalyzerEngine, entity: str, text: str) -> None:
    assert findings(analyzer, text, entity) == {}


@pytest.mark.parametrize(
    ("entity", "bare", "with_context"),
    [
        ("NL_BSN", "422338035", "BSN 422338035"),
        ("DE_TAX_ID", "30213786436", "Steuer-ID 30213786436"),
        ("IMEI", "017755392558193", "IMEI 017755392558193"),
        ("PHONE_NUMBER", "3471234567", "phone 3471234567"),
        ("PHONE_NUMBER", "3288377836", "Please call Ranieri back on 3288377836"),
        ("UK_NHS", "4010232137", "NHS 4010232137"),
    ],
)
def test_weak_checks_need_context(analyzer: AnalyzerEngine, entity: str, bare: str, with_context: str) -> None:
    """A bare number passing a 1-in-10 check is a guess below MIN_SCORE; a context word makes it a finding."""
    bare_score = findings(analyzer, bare, entity)[bare]
    context_score = findings(analyzer, with_context, entity)[bare]
    assert bare_score < MIN_SCORE <= context_score


def test_random_15_digit_numbers_are_not_cards() -> None:
    rng = random.Random(15)
    recognizer = CustomCreditCardRecognizer()
    numbers = ["".join(rng.choice("0123456789") for _ in range(15)) for _ in range(3000)]
    matched = {n for n in numbers if recognizer.analyze(f"ref {n}", [recognizer.ENTITY])}
    assert matched == {n for n in numbers if n[:2] in {"34", "37"} and luhn_ok(n)}
    assert len(matched) < 0.005 * len(numbers)


def test_imei_needs_reporting_body_and_luhn() -> None:
    rng = random.Random(16)
    recognizer = ImeiRecognizer()
    numbers = ["".join(rng.choice("0123456789") for _ in range(15)) for _ in range(2000)]
    matched = {n for n in numbers if recognizer.analyze(n, [recognizer.ENTITY])}
    bodies = {
        *("00", "01", "10", "30", "33", "35", "44", "45", "49"),
        *("50", "51", "52", "53", "54", "86", "91", "98", "99"),
    }
    assert matched == {n for n in numbers if n[:2] in bodies and luhn_ok(n)}


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=10_000_000, max_value=999_999_999))
def test_bsn_matches_exactly_the_11_proof(number: int) -> None:
    digits = f"{number:09d}"
    eleven_proof = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0
    assert bool(BsnRecognizer().analyze(digits, ["NL_BSN"])) == (eleven_proof and number > 0)


@settings(max_examples=300, deadline=None)
@given(st.dates(), st.integers(min_value=0, max_value=9999))
def test_pesel_matches_valid_birth_dates_with_check_digit(born, serial: int) -> None:  # type: ignore[no-untyped-def]
    if not 1800 <= born.year <= 2299:
        return
    century = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[born.year // 100]
    body = f"{born.year % 100:02d}{born.month + century:02d}{born.day:02d}{serial:04d}"
    check = (10 - sum(int(d) * w for d, w in zip(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True)) % 10) % 10
    recognizer = PeselRecognizer()
    assert recognizer.analyze(body + str(check), ["PL_PESEL"])
    assert not recognizer.analyze(body + str((check + 1) % 10), ["PL_PESEL"])


def test_card_number_is_not_also_a_phone_number(analyzer: AnalyzerEngine) -> None:
    """A weaker reading inside a stronger result of another entity is dropped (one clear entity per value)."""
    entities = {r.entity_type for r in analyzer.analyze("374658169983957", language="en")}
    assert "CUSTOM_CREDIT_CARD" in entities
    assert "PHONE_NUMBER" not in entities
    # A 10-digit phone number that happens to pass the NHS check stays a phone number.
    assert "PHONE_NUMBER" in {r.entity_type for r in analyzer.analyze("029 5497661", language="en")}
    assert "URL" not in {r.entity_type for r in analyzer.analyze("lena.smit@example.nl", language="en")}
