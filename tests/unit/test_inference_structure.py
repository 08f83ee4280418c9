"""Structural field signals: the subject sketch, value shapes, dates, URLs, and the rules that use them.

The titles and names here are made up for these tests (not the demo's, not in any training list), and the
rules are checked with fixed analyzer tallies as well as with the real analyzer: the structure must decide
where the values' look cannot.
"""

from __future__ import annotations

import json
import random
from datetime import date
from functools import partial
from typing import Any

import pytest

from deid.domains import Domain, FieldSpec
from deid.settings import Settings
from recognizers import build_analyzer
from schema_inference.classify import NON_PII, Findings, analyze_values, decide, sampled_values
from schema_inference.draft import field_rule
from schema_inference.job import decide_all
from schema_inference.profile import Profile, ProfileSummary
from schema_inference.signals import collapsed_shape, field_signals, is_name_shaped, url_signals
from schema_inference.structural import EVENT_TIME, refine
from schema_inference.subjects import SubjectSketch, structure_of

SHOWS = ["Morven Acre", "Inspector Dunmore", "Calla Brightwater", "Ossian Reed", "Tamsin Holloway", "Brother Quill"]
GIVEN = ["Ilse", "Teodor", "Marisol", "Kwabena", "Yuki", "Radomir", "Aoife", "Sunita", "Lars", "Zeynep", "Oren"]
FAMILY = ["Vukovic", "Haraldsen", "Okonkwo", "Brennan", "Takahashi", "Lindqvist", "Moreau", "Castellano", "Nowak"]


def viewing_events(count: int = 6000, viewers: int = 300, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    combos = rng.sample([(g, i, f) for g in GIVEN for i in "ABCDEFGHJKLMNPRSTW" for f in FAMILY], viewers)
    names = [f"{g} {i}. {f}" for g, i, f in combos]  # one name per viewer
    people = [(f"u{n:06d}", name, n) for n, name in zip(rng.sample(range(10**6), viewers), names, strict=True)]
    events = []
    for _ in range(count):
        uid, name, n = rng.choice(people)
        email = f"{name.split()[0].lower()}.{n}@post.example"
        events.append(
            {
                "viewer": uid,
                "programme": rng.choice(SHOWS),
                "audience_member": name,
                "seen_on": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "born": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "portal": rng.choice(["bol.com", "zalando.nl", "tweakers.net", "nu.nl"]),
                "landing": rng.choice(["https://shop.example/cart", f"https://shop.example/me?email={email}"]),
            }
        )
    return events


def summarise(events: list[dict[str, Any]], subject: str | None, **kwargs: Any) -> ProfileSummary:
    rows = ((json.dumps(e).encode(), 0, i) for i, e in enumerate(events))
    return Profile(1000, 0, subject_field=subject, **kwargs).add_all(rows).summary()


def tally(total: int, entity: str, hits: int, score: float = 0.85) -> Findings:
    found = Findings()
    for index in range(total):
        found.add({entity: score} if index < hits else {}, 1 if index < hits else 0)
    return found


# --- the subject sketch ------------------------------------------------------------------------------------


def test_the_sketch_keeps_k_subjects_with_all_their_records_and_merges_like_one_pass() -> None:
    events = viewing_events(3000, 200)
    one = SubjectSketch("viewer", k=50)
    one.observe(events)
    left, right = SubjectSketch("viewer", k=50), SubjectSketch("viewer", k=50)
    left.observe(events[:1700])
    right.observe(events[1700:])
    merged = left.merge(right)
    assert len(one.subjects) == 50 and set(merged.subjects) == set(one.subjects)
    for subject, rows in one.subjects.items():
        assert rows.records == sum(1 for e in events if e["viewer"] == subject)  # every record of a kept subject
        assert merged.subjects[subject].values == rows.values
    assert max(one.hashes.values()) < min(h for s, h in _all_hashes(events).items() if s not in one.subjects)


def _all_hashes(events: list[dict[str, Any]]) -> dict[str, int]:
    from schema_inference.subjects import subject_hash

    return {e["viewer"]: subject_hash(e["viewer"]) for e in events}


def test_structure_tells_a_subjects_own_value_from_a_shared_varying_one() -> None:
    sketch = SubjectSketch("viewer")
    sketch.observe(viewing_events())
    name, show = structure_of(sketch, "audience_member"), structure_of(sketch, "programme")
    assert name is not None and show is not None
    assert name.functional == 1.0 and name.subjects_per_value == 1.0  # one name per viewer, its own
    assert show.shared == 1.0 and show.functional is not None and show.functional < 0.1
    assert show.subjects_per_value is not None and show.subjects_per_value > 100
    assert structure_of(sketch, "no_such_field") is None


def test_the_profile_carries_the_sketch_through_merge_and_pickle() -> None:
    import pickle

    events = viewing_events(2000, 100)
    first = Profile(100, 0, subject_field="viewer").add_all(
        (json.dumps(e).encode(), 0, i) for i, e in enumerate(events[:900])
    )
    second = Profile(100, 1, subject_field="viewer").add_all(
        (json.dumps(e).encode(), 1, i) for i, e in enumerate(events[900:])
    )
    summary = pickle.loads(pickle.dumps(first)).merge(pickle.loads(pickle.dumps(second))).summary()
    assert summary.subjects is not None and len(summary.subjects.subjects) == 100
    assert summary.subjects.records == 2000
    assert Profile(100).summary().subjects is None  # no subject field, no sketch


# --- shapes, URLs, dates -------------------------------------------------------------------------------------


def test_shapes_and_name_shapes() -> None:
    assert collapsed_shape("Morven Acre") == "Aa Aa"
    assert collapsed_shape("u004213") == "a9"
    assert collapsed_shape("bol.com") == "a.a"
    assert is_name_shaped("Aoife Brennan") and is_name_shaped("J. R. Okonkwo") and is_name_shaped("ilse nowak")
    assert not is_name_shaped("Lars") and not is_name_shaped("Room 101") and not is_name_shaped("a b c d e")


def test_hosts_are_told_from_urls_with_personal_parts() -> None:
    hosts = url_signals(["bol.com", "www.zalando.nl", "nu.nl"])
    assert hosts is not None and hosts.hosts == 1.0 and hosts.personal == 0.0
    mixed = url_signals(
        [
            "https://shop.example/cart",
            "https://shop.example/orders?uid=99812",
            "https://shop.example/u/teodor@post.example",
            "https://ilse:pw@files.example/x",
            "https://shop.example/users/4481923/settings",
        ]
    )
    assert mixed is not None and mixed.hosts == 0.0 and mixed.urls == 1.0 and mixed.personal == 0.8
    assert mixed.parts == ("email", "path id", "query parameter", "userinfo")
    assert url_signals(["Morven Acre", "Ossian Reed"]) is None


def test_date_signals_span_and_age() -> None:
    summary = summarise(viewing_events(2000, 100), "viewer")
    seen = field_signals(summary.field("seen_on"), summary.subjects, today=date(2026, 1, 1))
    born = field_signals(summary.field("born"), summary.subjects, today=date(2026, 1, 1))
    assert seen.dates is not None and seen.dates.years_span < 1 and seen.dates.median_years_ago < 1.1
    assert born.dates is not None and born.dates.years_span > 40 and born.dates.median_years_ago > 30


# --- the rules ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def viewing() -> ProfileSummary:
    return summarise(viewing_events(), "viewer")


def test_titles_a_recognizer_calls_persons_are_a_catalogue_by_structure(viewing: ProfileSummary) -> None:
    profile = viewing.field("programme")
    found = tally(1000, "PERSON", 900)  # the values look like names to the analyzer: 90%
    base = decide(profile, found)
    assert base.entity == "PERSON"
    decision = refine(base, profile, found, field_signals(profile, viewing.subjects))
    assert decision.entity == NON_PII and decision.role == "catalogue"
    assert "shared by several of 300 sampled subjects" in decision.explanation
    assert decision.signals["functional_on_subject"] < 0.1 and decision.signals["shared_across_subjects"] == 1.0


def test_a_column_named_for_names_is_never_overruled(viewing: ProfileSummary) -> None:
    profile = viewing.field("programme")
    renamed = type(profile)(**{**profile.__dict__, "path": "last_name", "name": "last_name"})
    found = tally(1000, "PERSON", 900)
    decision = refine(decide(renamed, found), renamed, found, field_signals(renamed, viewing.subjects))
    assert decision.entity == "PERSON"


def test_name_shaped_values_of_one_subject_each_are_person_below_the_share(viewing: ProfileSummary) -> None:
    profile = viewing.field("audience_member")
    found = tally(1000, "PERSON", 350)  # the analyzer misses most of these names
    assert decide(profile, found).entity == NON_PII
    decision = refine(decide(profile, found), profile, found, field_signals(profile, viewing.subjects))
    assert decision.entity == "PERSON" and decision.role == "person_name"
    assert "names by structure" in decision.explanation and decision.signals["name_shaped"] == 1.0


def test_without_a_subject_field_repeated_values_are_a_catalogue_and_distinct_ones_names() -> None:
    summary = summarise(viewing_events(), None)
    show, name = summary.field("programme"), summary.field("audience_member")
    found = tally(1000, "PERSON", 900)
    assert refine(decide(show, found), show, found, field_signals(show, None)).entity == NON_PII
    assert refine(decide(name, found), name, found, field_signals(name, None)).entity == "PERSON"


def test_with_the_real_analyzer_every_field_gets_its_role(viewing: ProfileSummary) -> None:
    tallies = dict(analyze_values(sampled_values(viewing), partial(build_analyzer, Settings())))
    decisions = decide_all(viewing, tallies, subject_field="viewer", event_time_field="seen_on")
    got = {path: (d.entity, d.role) for path, d in decisions.items()}
    assert got["programme"][0] == NON_PII
    assert got["audience_member"] == ("PERSON", got["audience_member"][1])
    assert got["seen_on"] == (EVENT_TIME, "event_time")
    assert got["born"] == ("DATE_TIME", "birth_date")  # "born": no name hint; one per subject, decades ago
    assert got["portal"] == (NON_PII, "site_domain")
    assert got["landing"] == ("URL", "url_personal")
    assert got["viewer"][1] == "subject"

    domain = Domain(
        name="viewing",
        subject_field="viewer",
        event_time_field="seen_on",
        fields={
            "viewer": FieldSpec(type="string"),
            "seen_on": FieldSpec(type="date", format="%Y-%m-%d"),
            "portal": FieldSpec(type="string"),
            "landing": FieldSpec(type="string"),
        },
    )
    assert field_rule(decisions["seen_on"], domain).treatment == "date_shift"
    assert field_rule(decisions["portal"], domain).treatment == "keep"
    landing = field_rule(decisions["landing"], domain)
    assert landing.treatment == "generalize" and landing.params.kind == "url_site"  # type: ignore[union-attr]


def test_generalize_url_site_keeps_only_the_site() -> None:
    from deid.policy import GeneralizeParams
    from pipelines.transforms import FieldContext, TreatmentError
    from pipelines.transforms.generalize import Generalize

    spec = FieldSpec(type="string")
    domain = Domain(name="web", subject_field=None, fields={"landing": spec})
    site = Generalize().compile(GeneralizeParams(kind="url_site"), FieldContext("landing", spec, domain, None))
    assert (
        site("https://ilse:pw@Shop.example:8443/me?email=ilse@post.example#top", None) == "https://shop.example:8443/"
    )
    assert site("shop.example/u/4481923", None) == "shop.example/"
    assert site(site("https://shop.example/a?b=c", None), None) == "https://shop.example/"  # idempotent
    with pytest.raises(TreatmentError, match="with a host"):
        site("not a url at all", None)


def test_an_undeclared_event_time_is_found_by_structure_and_a_declared_one_is_trusted(viewing: ProfileSummary) -> None:
    seen, born = viewing.field("seen_on"), viewing.field("born")
    found = tally(1000, "DATE_TIME", 1000)
    by_structure = refine(decide(seen, found), seen, found, field_signals(seen, viewing.subjects))
    assert by_structure.entity == EVENT_TIME and by_structure.confidence == 0.75
    assert "varies within a subject" in by_structure.explanation
    # a date of birth stays one, even if a domain wrongly declared it its event time
    declared = refine(decide(born, found), born, found, field_signals(born, viewing.subjects), event_time_field="born")
    assert declared.entity == "DATE_TIME" and declared.role == "birth_date"


def test_ids_in_url_paths_shared_by_many_subjects_are_products_not_people() -> None:
    rng = random.Random(9)
    events = [
        {
            "who": f"w{n % 80}",
            "product_page": f"https://shop.example/products/{rng.randint(10000, 10040)}",
            "account_page": f"https://shop.example/account/{n % 80:08d}/orders",
        }
        for n in range(2000)
    ]
    summary = summarise(events, "who")
    products = field_signals(summary.field("product_page"), summary.subjects)
    accounts = field_signals(summary.field("account_page"), summary.subjects)
    assert products.url is not None and products.url.ids_shared and products.url.personal == 0.0
    assert accounts.url is not None and not accounts.url.ids_shared and accounts.url.personal == 1.0
    no_subject = field_signals(summary.field("product_page"), None)  # unknown: an id counts (fail closed)
    assert no_subject.url is not None and no_subject.url.personal == 1.0
