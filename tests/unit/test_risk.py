"""k-anonymity over a sliding window of anonymised quasi-identifier tuples, and its suggestions; the
reviewed profile policy reaches the domain's target k on generated profiles (the old one did not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.keys import LocalKeystore
from pipelines.plan import compile_policy
from pipelines.risk import KSuppressor, RiskWindow, count_classes, suggested_quasi_identifiers, suppress_small_classes
from producers.registry import generator_for

QI = ("dob", "gender")


def _records(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"dob": dob, "gender": gender, "other": "x"} for dob, gender in pairs]


def test_report_counts_classes_min_k_share_below_target_and_prosecutor_risk() -> None:
    window = RiskWindow(QI, target_k=3)
    window.observe_all(_records([("1980-01-01", "f")] * 4 + [("1990-01-01", "m")] * 2 + [("1975-05-05", "f")]))
    report = window.report()
    assert (report.records, report.classes, report.min_k) == (7, 3, 1)
    assert report.below_target == 3 and report.share_below_target == pytest.approx(3 / 7)
    assert report.prosecutor_risk == 1.0
    assert report.histogram["1"] == 1 and report.histogram["2"] == 1 and report.histogram["3-4"] == 1
    assert "1980" not in str(report.to_json())  # counts only, never a value


def test_the_window_slides_by_count_and_by_age() -> None:
    window = RiskWindow(QI, target_k=2, size=3)
    window.observe_all(_records([("a1", "f"), ("b2", "f"), ("b2", "f"), ("b2", "f")]))
    assert len(window) == 3 and window.report().min_k == 3 and window.report().classes == 1
    now = [0.0]
    timed = RiskWindow(QI, size=100, max_age=10.0, clock=lambda: now[0])
    timed.observe({"dob": "x1", "gender": "f"})
    now[0] = 5.0
    timed.observe({"dob": "y2", "gender": "m"})
    now[0] = 12.0
    assert timed.report().records == 1


def test_suggestions_prefer_a_generalisation_that_reaches_the_target() -> None:
    pairs = [(f"19{70 + i % 10}-0{1 + i % 9}-1{i % 10}", "f" if i % 2 else "m") for i in range(200)]
    window = RiskWindow(QI, target_k=5)
    window.observe_all(_records(pairs))
    assert window.report().min_k < 5
    best = window.suggest()[0]
    assert best.field == "dob" and best.change in {"year", "decade"} and best.min_k >= 5
    assert "generalise to" in best.text()


def test_postcodes_get_a_prefix_suggestion_and_numbers_a_bucket() -> None:
    postcodes = RiskWindow(("postcode",), target_k=2)
    postcodes.observe_all([{"postcode": f"SW{i % 4} {i}AA"} for i in range(20)])
    assert postcodes.suggest()[0].change == "prefix 4" and postcodes.suggest()[0].min_k == 5
    ages = RiskWindow(("age",), target_k=2)
    ages.observe_all([{"age": 20 + i} for i in range(40)])
    assert ages.suggest()[0].change == "bucket 10" and ages.suggest()[0].min_k == 10


def test_quasi_identifiers_are_suggested_from_the_fields() -> None:
    registry = load_registry()
    assert suggested_quasi_identifiers(registry.get("profile")) == ["dob", "gender"]
    assert suggested_quasi_identifiers(registry.get("channel")) == []  # its date is when a show was watched
    assert "purchase_date" not in suggested_quasi_identifiers(registry.get("movie"))


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="quasi-identifier"):
        RiskWindow(())
    with pytest.raises(ValueError, match="at least one record"):
        RiskWindow(QI, size=0)


def test_reviewed_profile_policy_reaches_the_target_k(tmp_path: Path) -> None:
    domain = load_registry().get("profile")
    generator = generator_for(domain, seed=1)
    events = [generator.event() for _ in range(2000)]
    store = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    reviewed = Policy.load(Path("pipelines/policies/profile.yaml"))
    # The policy before issue 22: dob kept when consented, gender kept.
    legacy = Policy.from_document(
        {
            "domain": "profile",
            "rules": {
                "dob": {
                    "with_consent": {"treatment": "keep"},
                    "without_consent": {"treatment": "redact"},
                },
                "gender": {"treatment": "keep"},
            },
        }
    )
    reports = {}
    for name, policy in (("legacy", legacy), ("reviewed", reviewed)):
        plan = compile_policy(policy, domain, store)
        window = RiskWindow(domain.quasi_identifiers, domain.target_k)
        window.observe_all(plan.apply(dict(event)) for event in events)
        reports[name] = window.report()
    store.close()
    assert reports["legacy"].min_k == 1 and reports["legacy"].share_below_target > 0.5
    assert reports["reviewed"].min_k >= domain.target_k and reports["reviewed"].below_target == 0


def test_k_suppressor_releases_a_tuple_only_once_k_records_share_it() -> None:
    suppress = KSuppressor(QI, target_k=3, size=100)
    stream = [("1980-01-01", "f")] * 4 + [("1975-05-05", "m")] + [("1990-01-01", "m")] * 3
    out = [suppress(record) for record in _records(stream)]
    released = [(r["dob"], r["gender"]) for r in out]
    assert released == [
        (None, None),
        (None, None),
        ("1980-01-01", "f"),
        ("1980-01-01", "f"),
        (None, None),
        (None, None),
        (None, None),
        ("1990-01-01", "m"),
    ]
    assert suppress.suppressed == 5
    assert all(r["other"] == "x" for r in out)  # only the quasi-identifiers change
    # Whoever knows a released person's tuple finds >= k compatible output records (same tuple or suppressed).
    for tuple_ in {t for t in released if t != (None, None)}:
        assert released.count(tuple_) + released.count((None, None)) >= 3


def test_k_suppressor_counts_within_its_window_and_leaves_nested_and_null_tuples_alone() -> None:
    suppress = KSuppressor(("person.dob",), target_k=2, size=2)
    first, second, third = ({"person": {"dob": d}} for d in ("1980", "1980", "1970"))
    assert suppress(first)["person"]["dob"] is None and suppress(second)["person"]["dob"] == "1980"
    assert suppress(third)["person"]["dob"] is None  # the window (2 records) holds one 1970
    assert suppress({"person": None}) == {"person": None} and suppress.suppressed == 2


def test_suppress_needs_quasi_identifiers_and_makes_them_nullable_in_the_schema() -> None:
    from deid.policy import PolicyError, check_policy
    from pipelines.avro import anonymised_schema

    registry = load_registry()
    profile, channel = registry.get("profile"), registry.get("channel")
    rules = {name: {"treatment": "drop"} for name in profile.fields} | {"gender": {"treatment": "keep"}}
    policy = Policy(domain="profile", version=1, status="published", rules=rules, k_anonymity="suppress")
    schema = anonymised_schema(profile, policy, required_fields={"gender"})
    assert [f["type"] for f in schema["fields"] if f["name"] == "gender"] == [["null", "string"]]
    assert "k_anonymity" not in Policy(domain="profile", rules=rules).to_document()  # default stays out
    assert policy.to_document()["k_anonymity"] == "suppress"
    channel_policy = Policy(domain="channel", rules={"date": {"treatment": "keep"}}, k_anonymity="suppress")
    with pytest.raises(PolicyError, match="k_anonymity: 'suppress' needs quasi-identifiers"):
        check_policy(channel_policy, channel)


def test_an_aborted_batch_leaves_the_suppressor_as_it_was() -> None:
    suppress = KSuppressor(QI, target_k=3, size=100)
    for record in _records([("1980-01-01", "f")] * 2):
        suppress(record)
    suppress.commit_batch()
    for record in _records([("1980-01-01", "f")] * 2):
        suppress(record)
    suppress.abort_batch()  # read again: counting these twice would make the class look 4 strong with 2 people
    assert len(suppress.seen) == 2 and suppress.suppressed == 2
    again = [suppress(record)["dob"] for record in _records([("1980-01-01", "f")] * 2)]
    assert again == ["1980-01-01", "1980-01-01"] and suppress.suppressed == 2


def test_suppress_small_classes_uses_the_counts_given_and_fails_closed_on_unknown_tuples() -> None:
    """The batch rule: counts over the whole run (not the records passed), nested paths, a tuple the count
    never saw is nulled, an all-null tuple is left alone (nothing to hide)."""
    run = [{"p": {"dob": "1980"}, "g": "F"}] * 3 + [{"p": {"dob": "1990"}, "g": "M"}]
    classes = count_classes(run, ["p.dob", "g"])
    assert classes == {("1980", "F"): 3, ("1990", "M"): 1}
    part = [{"p": {"dob": "1980"}, "g": "F", "x": 1}, {"p": {"dob": "1990"}, "g": "M", "x": 2}]
    part += [{"p": {"dob": "2000"}, "g": "F", "x": 3}, {"p": {"dob": None}, "g": None, "x": 4}]
    assert suppress_small_classes(part, ["p.dob", "g"], 3, classes) == 2
    assert part == [
        {"p": {"dob": "1980"}, "g": "F", "x": 1},
        {"p": {"dob": None}, "g": None, "x": 2},
        {"p": {"dob": None}, "g": None, "x": 3},
        {"p": {"dob": None}, "g": None, "x": 4},
    ]
