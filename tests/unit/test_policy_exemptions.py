"""Exemptions: a keep of a PII-tagged field needs a reason; the catalog stamps who and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deid.policy import Policy, PolicyError, exemption_problems, kept_in_clear, stamp_exemptions

PII = {"name": "PERSON", "dob": "DATE_TIME", "ssn_no": "US_SSN"}


def _policy(rules: dict, purposes: list | None = None) -> Policy:
    return Policy.from_document({"domain": "profile", "rules": rules, "purposes": purposes or []})


def test_keep_of_pii_without_exemption_is_a_problem_naming_the_branch() -> None:
    policy = _policy(
        {
            "name": {"treatment": "keep"},
            "gender": {"treatment": "keep"},
            "dob": {
                "min_consent_level": 1,
                "with_consent": {"treatment": "keep"},
                "without_consent": {"treatment": "drop"},
            },
            "ssn_no": {"treatment": "mask"},
        }
    )
    problems = exemption_problems(policy, PII)
    assert len(problems) == 2
    assert problems[0].startswith("rules.dob.with_consent: keeps 'dob' (tagged DATE_TIME)")
    assert problems[1].startswith("rules.name: keeps 'name' (tagged PERSON)")


def test_exemption_with_reason_clears_the_problem_and_round_trips() -> None:
    policy = _policy({"name": {"treatment": "keep", "exemption": {"reason": "public figure register"}}})
    assert exemption_problems(policy, PII) == []
    [kept] = kept_in_clear(policy, PII)
    assert kept.exemption is not None and kept.exemption.reason == "public figure register"
    again = Policy.from_yaml(policy.to_yaml())
    assert again == policy


def test_purpose_rules_are_checked_too() -> None:
    policy = _policy({"name": {"treatment": "mask"}}, [{"name": "crm", "rules": {"name": {"treatment": "keep"}}}])
    assert [p.split(":")[0] for p in exemption_problems(policy, PII)] == ["purposes[0].rules.name"]


@pytest.mark.parametrize(
    ("exemption", "message"),
    [
        ({"reason": "   "}, "non-blank reason"),
        ({}, "missing key 'reason'"),
        ({"reason": "x", "who": "me"}, "unknown key 'who'"),
    ],
)
def test_bad_exemption_names_the_path(exemption: dict, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        _policy({"name": {"treatment": "keep", "exemption": exemption}})
    assert "rules.name" in str(err.value) and message in str(err.value)


def test_exemption_on_a_treatment_that_is_not_keep_is_refused() -> None:
    with pytest.raises(PolicyError, match="only a keep rule"):
        _policy({"name": {"treatment": "mask", "exemption": {"reason": "because"}}})


def test_stamp_fills_by_and_at_only_where_missing() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    earlier = "2025-05-05T00:00:00+00:00"
    policy = _policy(
        {
            "name": {"treatment": "keep", "exemption": {"reason": "a"}},
            "gender": {"treatment": "keep", "exemption": {"reason": "b", "by": "alice", "at": earlier}},
        }
    )
    stamped = stamp_exemptions(policy, "steward", at)
    name, gender = stamped.rules["name"].exemption, stamped.rules["gender"].exemption
    assert (name.by, name.at) == ("steward", at)
    assert (gender.by, gender.at.isoformat()) == ("alice", earlier)
    assert stamp_exemptions(stamped, "other", at) is stamped
