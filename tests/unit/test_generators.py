"""The domain generators: field shapes as the registry says, determinism, realistic values."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import pytest

from deid.domains import load_registry
from producers.base import GeneratorOptions, ascii_slug, luhn_check_digit, luhn_valid
from producers.channel import SHOWS
from producers.registry import GENERATORS, generator_for
from producers.sources import generated_events

REGISTRY = load_registry()
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "text": (str,),
    "int": (int,),
    "long": (int,),
    "double": (float,),
    "boolean": (bool,),
    "date": (str,),
    "timestamp": (str,),
}


def events(domain: str, count: int, seed: int = 7, **options: Any) -> list[dict[str, Any]]:
    generator = generator_for(REGISTRY.get(domain), seed, GeneratorOptions(**options))
    return [generator.event() for _ in range(count)]


def test_every_builtin_domain_has_a_generator() -> None:
    assert set(GENERATORS) == set(REGISTRY.names)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_events_have_exactly_the_registry_fields_types_and_formats(name: str) -> None:
    domain = REGISTRY.get(name)
    for event in events(name, 300):
        assert list(event) == list(domain.fields), name
        for field, spec in domain.fields.items():
            value = event[field]
            assert isinstance(value, PYTHON_TYPES[spec.type]), (field, value)
            assert not (spec.type in ("int", "long") and isinstance(value, bool)), field
            if spec.format:
                datetime.strptime(value, spec.format)  # raises if the format does not match
        if domain.subject_field:
            assert event[domain.subject_field]


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_events_other_seed_other_events(name: str) -> None:
    assert events(name, 50, seed=3) == events(name, 50, seed=3)
    assert events(name, 50, seed=3) != events(name, 50, seed=4)


def test_subjects_recur_as_in_real_feeds() -> None:
    users = Counter(e["user_id"] for e in events("channel", 3000, users=200))
    assert len(users) <= 200 and max(users.values()) > 5


def test_event_ids_are_deterministic_and_unique() -> None:
    def ids(seed: int) -> list[str]:
        generator = generator_for(REGISTRY.get("website"), seed)
        return [e.event_id for e in generated_events(generator, 500, "user_id")]

    first = ids(11)
    assert first == ids(11)
    assert len(set(first)) == 500
    assert first[0] == "gen:website:11:0" and not set(first) & set(ids(12))


def test_channel_titles_include_person_like_names_and_user_ids_have_five_digits() -> None:
    produced = events("channel", 5000)
    titles = {e["tv_show"] for e in produced}
    assert {"Barry", "Andi Mack", "Ted Lasso"} <= {show for _, show, _ in SHOWS}
    assert len(titles & {"Barry", "Andi Mack", "Ted Lasso", "Frasier", "Luther", "Dexter", "Vera"}) >= 5
    assert len(titles & {"9-1-1", "Dark", "The Crown", "Breaking Bad", "Survivor"}) >= 3
    assert all(re.fullmatch(r"user-\d{5}", e["user_id"]) for e in produced)


def test_luhn() -> None:
    assert luhn_valid("378282246310005") and luhn_valid("371449635398431")  # published AmEx test numbers
    assert not luhn_valid("378282246310006") and not luhn_valid("37828224631000x")
    assert luhn_check_digit("7992739871") == "3"


def test_movie_cards_are_15_digit_amex_style_and_luhn_valid() -> None:
    produced = events("movie", 2000)
    cards = {e["card_number"] for e in produced}
    assert len(cards) > 500
    for card in cards:
        assert re.fullmatch(r"3[47]\d{13}", card), card
        assert luhn_valid(card), card
    # A customer pays with the same one or two cards.
    per_user = defaultdict(set)
    for event in produced:
        per_user[event["user_id"]].add(event["card_number"])
    assert max(len(c) for c in per_user.values()) <= 2
    assert {round(e["price"], 2) for e in produced} <= {2.99, 3.99, 4.99, 5.99, 7.99, 9.99, 12.99, 14.99, 19.99}


def _phone_shape(number: str) -> str:
    return re.sub(r"\d+", "9", number)


def test_mobile_numbers_come_in_several_formats() -> None:
    produced = events("mobile", 2000)
    numbers = {e["a_party"] for e in produced} | {e["b_party"] for e in produced}
    assert all(sum(c.isdigit() for c in n) >= 7 for n in numbers)
    shapes = {_phone_shape(n) for n in numbers}
    assert len(shapes) >= 8
    assert any(n.startswith("+") for n in numbers) and any(n.startswith("(") for n in numbers)
    assert any(re.fullmatch(r"\d+", n) for n in numbers) and any(" " in n for n in numbers)
    assert all(e["a_party"] != e["b_party"] for e in produced)
    assert all(e["duration"] == 0 for e in produced if e["call_type"] == "sms")


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.7, 1.0])
def test_profile_consent_ratio(ratio: float) -> None:
    produced = events("profile", 4000, consent_ratio=ratio)
    share = sum(e["data_share_consent"] for e in produced) / len(produced)
    assert abs(share - ratio) < 0.03


def test_profile_subject_is_one_person() -> None:
    people = defaultdict(set)
    for event in events("profile", 3000, users=300):
        people[event["ssn_no"]].add((event["name"], event["dob"], event["gender"]))
    assert all(len(p) == 1 for p in people.values())
    assert all(re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn) for ssn in people)


def test_clickstream_sessions_are_per_user_and_closely_spaced() -> None:
    domain = REGISTRY.get("clickstream")
    fmt = domain.fields["ts"].format
    assert fmt is not None
    sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    produced = events("clickstream", 3000)
    for event in produced:
        sessions[event["session_id"]].append(event)
    assert len(sessions) > 100
    assert sum(len(s) >= 3 for s in sessions.values()) > len(sessions) / 2
    for rows in sessions.values():
        assert len({(r["user_id"], r["email"], r["device_id"]) for r in rows}) == 1
        times = [datetime.strptime(r["ts"], fmt) for r in rows]
        assert times == sorted(times)
        assert all((b - a).total_seconds() <= 40 for a, b in itertools.pairwise(times))
        assert rows[0]["event_type"] == "session_start"
    levels = Counter(e["consent_level"] for e in produced)
    assert set(levels) == {int(raw) for raw in domain.consent.levels}  # type: ignore[union-attr]
    assert all(re.fullmatch(r"[a-z.\-]+\d*@[a-z0-9.\-]+\.[a-z]+", e["email"]) for e in produced)
    assert all(e["ip_address"].startswith("10.") for e in produced)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="consent_ratio"):
        GeneratorOptions(consent_ratio=1.5)
    with pytest.raises(ValueError, match="users"):
        GeneratorOptions(users=0)


def test_mail_names_are_folded_to_ascii() -> None:
    assert ascii_slug("Łukasz Nowak-Żak") == "lukasz.nowak-zak"
    assert ascii_slug("Renée  D'Arcy") == "renee.darcy"
