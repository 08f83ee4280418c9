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
from pipelines.risk import RiskWindow, suggested_quasi_identifiers
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
