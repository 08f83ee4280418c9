"""Free-text recognizers of issue 24: names by shape and gazetteers, postal addresses, NRP, payment cards of
every scheme, phones of many countries, written dates and times; through the real analyzer (blank engine,
so only deid's own recognizers and Presidio's patterns speak) and with deid's NER model (overrides)."""

from __future__ import annotations

import pytest
from presidio_analyzer import AnalyzerEngine

from deid.settings import Settings
from recognizers import MIN_SCORE, build_analyzer


@pytest.fixture(scope="module")
def analyzer() -> AnalyzerEngine:
    return build_analyzer(Settings(), engine="blank")


def found(analyzer: AnalyzerEngine, text: str, entity: str) -> set[str]:
    results = analyzer.analyze(text, language="en", score_threshold=MIN_SCORE)
    return {text[r.start : r.end] for r in results if r.entity_type == entity}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Please ask Dr Novak to sign the form.", "Novak"),
        ("The form was signed by Maria Garcia yesterday.", "Maria Garcia"),
        ("APPLICANT ANNA KOWALSKA requested a copy.", "ANNA KOWALSKA"),
        ("msg from anna kowalska: running late", "anna kowalska"),
        ("Kowalska, Anna (tenant since 2019)", "Kowalska, Anna"),
        ("Referred by J. Peterson for a second opinion.", "J. Peterson"),
        ("Dear Oluwadamilare, thank you for your letter.", "Oluwadamilare"),
    ],
)
def test_names_are_found_from_their_shape(analyzer: AnalyzerEngine, text: str, name: str) -> None:
    assert name in found(analyzer, text, "PERSON")


@pytest.mark.parametrize(
    "text",
    [
        "The van is parked at 12 Thomas Street tonight.",
        "Deliver to Vicolo Rossi, 12 before noon.",
        "Paid on 19 Sep 2009 by transfer.",
        "We will meet in Sainte Margaret next week.",
        "Will you call me when the parcel arrives?",
    ],
)
def test_streets_places_and_ordinary_words_are_not_people(analyzer: AnalyzerEngine, text: str) -> None:
    assert not found(analyzer, text, "PERSON"), text


def test_a_multi_line_postal_address_is_one_location(analyzer: AnalyzerEngine) -> None:
    text = "Ship to:\n14 Mill Lane\nYork YO1 7HH\nUnited Kingdom\nThanks"
    assert "14 Mill Lane\nYork YO1 7HH\nUnited Kingdom" in found(analyzer, text, "LOCATION")
    text = "Neue Anschrift: Hauptstraße 5, 10115 Berlin."
    assert "Hauptstraße 5, 10115 Berlin" in found(analyzer, text, "LOCATION")
    text = "Billing: 88 Oak Ridge Dr, Apt 4B, Dayton, OH 45402"
    assert "88 Oak Ridge Dr, Apt 4B, Dayton, OH 45402" in found(analyzer, text, "LOCATION")


def test_nrp_words_are_found_with_their_capital_only(analyzer: AnalyzerEngine) -> None:
    assert {"Sikh", "Roman Catholic"} <= found(analyzer, "A Sikh family and a Roman Catholic priest.", "NRP")
    assert not found(analyzer, "the roma tomatoes and a han solo figure", "NRP")


def test_payment_cards_of_every_scheme_with_spaces_or_dashes(analyzer: AnalyzerEngine) -> None:
    # Synthetic numbers with a valid Luhn digit: Mastercard 2-series, Visa, Discover.
    for number in ("2221-0000-0000-0009", "4111 1111 1111 1111", "6011000990139424"):
        assert number in found(analyzer, f"Card number {number} on file.", "CREDIT_CARD"), number
    assert not found(analyzer, "Card number 2221-0000-0000-0008 on file.", "CREDIT_CARD")


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Call (415) 555-0132 after six.", "(415) 555-0132"),
        ("Mobile: 212.555.0199", "212.555.0199"),
        ("Ring +44 (0)20 7946 0321 tomorrow.", "+44 (0)20 7946 0321"),
        ("Contact (+33 6 12 34 56 78) for the keys.", "+33 6 12 34 56 78"),
        ("Tel 0061 412 345 678", "0061 412 345 678"),
        ("Her number is +91 98450 12345.", "+91 98450 12345"),
    ],
)
def test_phone_numbers_of_many_countries(analyzer: AnalyzerEngine, text: str, phone: str) -> None:
    assert phone in found(analyzer, text, "PHONE_NUMBER")


@pytest.mark.parametrize(
    "date",
    ["3rd of March 1984", "the 21st of June", "Friday, 3 March 1984", "Mar. 3, 1984", "3-Mar-84", "March 1984",
     "3.3.1984", "14:30", "3pm", "half past two"],
)  # fmt: skip
def test_written_dates_and_times(analyzer: AnalyzerEngine, date: str) -> None:
    text = f"The visit is on {date} as agreed."
    assert any(date in span for span in found(analyzer, text, "DATE_TIME")), found(analyzer, text, "DATE_TIME")


def test_checked_findings_override_the_models_reading_of_another_entity() -> None:
    analyzer = build_analyzer(Settings(), engine="deid")
    text = "APPLICANT Ngozi Balogun | TEL 604-179-1224 | Address: 14 Mill Lane, York YO1 7HH"
    results = analyzer.analyze(text, language="en", score_threshold=MIN_SCORE)
    by_entity: dict[str, set[str]] = {}
    for r in results:
        by_entity.setdefault(r.entity_type, set()).add(text[r.start : r.end])
    assert "604-179-1224" in by_entity["PHONE_NUMBER"]
    assert any("Balogun" in span for span in by_entity["PERSON"])
    assert not any(
        "604-179-1224" in span for span in by_entity.get("LOCATION", set()) | by_entity.get("ORGANIZATION", set())
    )
