"""Memo ground truth: every span points at exactly the value the generator put there."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from deid.domains import load_registry
from producers.memo import COUNTRIES, ENTITY_OF_SLOT, MemoGenerator, labelled_memos, one_line

ENTITIES = {"PERSON", "LOCATION", "PHONE_NUMBER", "IBAN_CODE", "EMAIL_ADDRESS", "DATE_TIME"}
DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%d %b %Y")


def _iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check."""
    compact = iban.replace(" ", "")
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact) is not None and int(digits) % 97 == 1


def _is_date(text: str) -> bool:
    for fmt in DATE_FORMATS:
        try:
            datetime.strptime(text, fmt)
            return True
        except ValueError:
            continue
    return False


def test_spans_point_at_the_values_faker_produced() -> None:
    generator = MemoGenerator(load_registry().get("memo"), seed=5)
    pools = {p.locale: p for p in generator.pools}
    seen_entities: Counter[str] = Counter()
    locales = set()
    for _ in range(400):
        memo = generator.compose()
        local = pools[memo.locale]
        locales.add(memo.locale)
        assert len(memo.spans) == len(memo.values) > 0
        assert memo.text.count(". ") >= 2  # several sentences
        previous_end = 0
        for (start, end, entity), value in zip(memo.spans, memo.values, strict=True):
            assert memo.text[start:end] == value
            assert start >= previous_end  # sorted, never overlapping
            previous_end = end
            assert entity in ENTITIES
            seen_entities[entity] += 1
            if entity == "IBAN_CODE":
                assert value.replace(" ", "") in local.ibans and _iban_valid(value)
            elif entity == "PHONE_NUMBER":
                assert value in local.phones
            elif entity == "EMAIL_ADDRESS":
                _user, domain = value.split("@")
                assert value in local.emails or domain in local.mail_domains
            elif entity == "LOCATION":
                assert value in {*local.addresses, *local.streets, *local.cities, *COUNTRIES}
                assert "\n" not in value
            elif entity == "PERSON":
                first = value.split(" ")[0]
                names = generator.agents if first not in {*local.names.female, *local.names.male} else local.names
                assert first in {*names.female, *names.male}
            elif entity == "DATE_TIME":
                assert _is_date(value), value
    assert set(seen_entities) == ENTITIES
    assert len(locales) == 7


def test_labelled_memos_is_deterministic_and_matches_the_produced_texts() -> None:
    first = labelled_memos(30, seed=9)
    assert first == labelled_memos(30, seed=9)
    assert first != labelled_memos(30, seed=10)
    generator = MemoGenerator(load_registry().get("memo"), seed=9)
    for text, spans in first:
        event, event_spans = generator.labelled()
        assert event["text"] == text and event_spans == spans
        for start, end, entity in spans:
            assert isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
            assert entity in ENTITIES and text[start:end].strip() == text[start:end]


def test_every_personal_slot_maps_to_a_presidio_entity() -> None:
    assert set(ENTITY_OF_SLOT.values()) == ENTITIES


def test_addresses_are_written_on_one_line() -> None:
    assert one_line("Flat 64t\nJoan  Unions\n\nDT7M 6XE ") == "Flat 64t, Joan Unions, DT7M 6XE"
