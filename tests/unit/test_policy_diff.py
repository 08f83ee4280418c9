"""deid.policy.diff_policies: what changed between two policies, rule by rule and purpose by purpose."""

from __future__ import annotations

from deid.policy import Policy, diff_policies


def _policy(rules: dict, purposes: list | None = None, version: int = 0, description: str = "") -> Policy:
    document = {"domain": "clickstream", "version": version, "rules": rules, "description": description}
    if version:
        document["status"] = "published"
    if purposes is not None:
        document["purposes"] = purposes
    return Policy.from_document(document)


def test_nothing_published_yet_every_rule_is_added() -> None:
    new = _policy({"user_id": {"treatment": "encrypt"}, "email": {"treatment": "mask"}})
    changes = diff_policies(None, new)
    assert [(c.kind, c.where, c.path) for c in changes] == [
        ("added", "rules.email", "email"),
        ("added", "rules.user_id", "user_id"),
    ]
    assert changes[1].before is None and changes[1].after["treatment"] == "encrypt"


def test_rule_changes_additions_and_removals_in_path_order() -> None:
    old = _policy({"a": {"treatment": "keep"}, "b": {"treatment": "mask"}, "c": {"treatment": "drop"}}, version=1)
    new = _policy(
        {"a": {"treatment": "keep"}, "b": {"treatment": "mask", "params": {"length": 16}}, "d": {"treatment": "keep"}}
    )
    changes = diff_policies(old, new)
    assert [(c.kind, c.where, c.path, c.purpose) for c in changes] == [
        ("changed", "rules.b", "b", None),
        ("removed", "rules.c", "c", None),
        ("added", "rules.d", "d", None),
    ]
    assert "length" not in changes[0].before["params"] and changes[0].after["params"]["length"] == 16
    assert changes[1].before["treatment"] == "drop" and changes[1].after is None
    assert changes[2].after == {"treatment": "keep"}


def test_identical_content_is_no_change_whatever_the_version_and_status() -> None:
    rules = {"x": {"treatment": "redact", "params": {"flag": True}}}
    assert diff_policies(_policy(rules, version=3), _policy(rules)) == []


def test_consent_rules_compare_as_a_whole() -> None:
    scrub = {"with_consent": {"treatment": "keep"}, "without_consent": {"treatment": "redact"}}
    stricter = {**scrub, "min_consent_level": 2}
    [change] = diff_policies(_policy({"dob": scrub}, version=1), _policy({"dob": stricter}))
    assert change.kind == "changed" and change.path == "dob" and change.after["min_consent_level"] == 2


def test_purposes_added_removed_and_their_rules_and_settings() -> None:
    recommender = {"name": "recommender", "min_consent_level": 2, "rules": {"user_id": {"treatment": "mask"}}}
    ads = {"name": "ads", "rules": {"email": {"treatment": "drop"}}}
    old = _policy({}, [recommender, ads], version=1)
    changed = {**recommender, "min_consent_level": 3, "rules": {"email": {"treatment": "mask"}}}
    research = {"name": "research", "rules": {}}
    changes = diff_policies(old, _policy({}, [changed, research], description="v2"))
    summary = [(c.kind, c.where, c.purpose, c.path) for c in changes]
    assert summary == [
        ("removed", "purposes.ads", "ads", None),
        ("changed", "purposes.recommender", "recommender", None),
        ("added", "purposes.recommender.rules.email", "recommender", "email"),
        ("removed", "purposes.recommender.rules.user_id", "recommender", "user_id"),
        ("added", "purposes.research", "research", None),
        ("changed", "description", None, None),
    ]
    assert changes[1].before == {"name": "recommender", "min_consent_level": 2}
    assert changes[1].after == {"name": "recommender", "min_consent_level": 3}


def test_k_anonymity_enforcement_is_a_change_of_its_own() -> None:
    rules = {"user_id": {"treatment": "encrypt"}}
    old = _policy(rules, version=1)
    new = Policy.from_document({"domain": "clickstream", "rules": rules, "k_anonymity": "suppress"})
    changes = diff_policies(old, new)
    assert [(c.kind, c.where, c.before, c.after) for c in changes] == [
        ("changed", "k_anonymity", "measure", "suppress")
    ]
    assert diff_policies(new, new) == []
