"""The policy API of the catalog (real server, SQLite and PostgreSQL): drafts, inference suggestions
that never override a steward's rule, publishing versions, validation and roles."""

from __future__ import annotations

import pytest

from catalog.client import BadRequest, Forbidden, NotFound
from deid.policy import Policy
from tests.catalog_support import CatalogServer

DOMAIN = "movie"


def suggested(card: str = "mask", movie: str = "keep") -> dict:
    return {
        "domain": DOMAIN,
        "rules": {
            "movie_name": {"treatment": movie},
            "movie_type": {"treatment": "keep"},
            "purchase_date": {"treatment": "date_shift", "params": {"max_days": 30}},
            "user_id": {"treatment": "encrypt"},
            "price": {"treatment": "keep"},
            "card_number": {"treatment": card},
        },
    }


def test_suggestions_keep_the_stewards_rules_and_publish_makes_versions(catalog: CatalogServer) -> None:
    steward = catalog.client("steward")
    steward.suggest_policy(DOMAIN, suggested())
    draft = steward.set_policy_rule(DOMAIN, "card_number", {"treatment": "drop"})
    assert "card_number" in draft["steward_paths"]
    assert draft["updated_by"] == steward.user

    # A new inference run suggests other treatments: the steward's field keeps their rule.
    draft = steward.suggest_policy(DOMAIN, suggested(card="redact", movie="drop"))
    assert draft["policy"]["rules"]["card_number"] == {"treatment": "drop"}
    assert draft["policy"]["rules"]["movie_name"] == {"treatment": "drop"}
    assert draft["policy"]["status"] == "draft"

    before = [v["version"] for v in steward.policy_versions(DOMAIN)]
    first = steward.publish_policy(DOMAIN)
    assert first["changed"] is True
    assert first["version"] == (before[-1] if before else 0) + 1
    assert first["policy"]["status"] == "published"

    again = steward.publish_policy(DOMAIN)  # nothing changed: no new version
    assert again == {**first, "changed": False}

    latest = catalog.client("viewer").latest_published_policy(DOMAIN)
    assert isinstance(latest, Policy)
    assert latest.version == first["version"]
    assert latest.rules["card_number"].treatment == "drop"

    steward.set_policy_rule(DOMAIN, "movie_name", {"treatment": "keep"})
    second = steward.publish_policy(DOMAIN)
    assert second["version"] == first["version"] + 1
    history = steward.policy_versions(DOMAIN)
    assert [v["version"] for v in history][-2:] == [first["version"], second["version"]]
    assert history[-1]["published_by"] == steward.user and history[-1]["published_at"] > 0
    old = steward.get_policy_version(DOMAIN, first["version"])
    assert old is not None and old.rules["movie_name"].treatment == "drop"

    events = catalog.client("admin").audit_feed(action="POLICY_PUBLISH", user=steward.user, limit=1000)["events"]
    assert any(e.get("details", {}).get("version") == second["version"] for e in events), events


def test_import_replaces_the_draft_and_every_rule_becomes_the_stewards(catalog: CatalogServer) -> None:
    steward = catalog.client("steward")
    draft = steward.put_policy_draft("website", {"domain": "website", "rules": {"user_id": {"treatment": "mask"}}})
    assert draft["steward_paths"] == ["user_id"]
    rules = steward.get_policy_draft("website")["policy"]["rules"]
    assert list(rules) == ["user_id"] and rules["user_id"]["treatment"] == "mask"


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"no_such_field": {"treatment": "keep"}}, "no_such_field"),
        ({"user_id": {"treatment": "scramble"}}, "scramble"),
        ({"user_id": {"treatment": "mask", "params": {"colour": "red"}}}, "colour"),
        ({"price": {"treatment": "date_shift"}}, "date_shift"),
    ],
)
def test_bad_policies_are_refused_naming_the_problem(catalog: CatalogServer, rules: dict, named: str) -> None:
    steward = catalog.client("steward")
    with pytest.raises(BadRequest) as caught:
        steward.put_policy_draft(DOMAIN, {"domain": DOMAIN, "rules": rules})
    assert named in str(caught.value)


def test_a_bad_single_rule_is_refused(catalog: CatalogServer) -> None:
    steward = catalog.client("steward")
    with pytest.raises(BadRequest, match="unknown field 'nope'"):
        steward.set_policy_rule(DOMAIN, "nope", {"treatment": "keep"})
    with pytest.raises(BadRequest, match="treatment"):
        steward.set_policy_rule(DOMAIN, "price", {"treatment": "sparkle"})


def test_unknown_domain_and_missing_policies_are_404(catalog: CatalogServer) -> None:
    viewer = catalog.client("viewer")
    with pytest.raises(NotFound, match="unknown domain"):
        viewer.policy_versions("atlantis")
    assert viewer.get_policy_version(DOMAIN, 999_999) is None
    domains = {row["domain"]: row for row in viewer.list_policies()}
    assert {"channel", "movie", "profile", "clickstream"} <= set(domains)


def test_viewers_read_but_cannot_change_policies(catalog: CatalogServer) -> None:
    viewer = catalog.client("viewer")
    with pytest.raises(Forbidden):
        viewer.publish_policy(DOMAIN)
    with pytest.raises(Forbidden):
        viewer.set_policy_rule(DOMAIN, "price", {"treatment": "keep"})
    with pytest.raises(Forbidden):
        viewer.suggest_policy(DOMAIN, suggested())


def test_k_anonymity_suppress_is_published_kept_by_suggestions_and_a_change_of_it_alone_versions(
    catalog: CatalogServer,
) -> None:
    steward = catalog.client("steward")
    rules = {"name": {"treatment": "drop"}, "dob": {"treatment": "keep"}, "gender": {"treatment": "keep"}}
    steward.put_policy_draft("profile", {"domain": "profile", "rules": rules})
    first = steward.publish_policy("profile")
    assert "k_anonymity" not in first["policy"]  # measure, the default
    steward.put_policy_draft("profile", {"domain": "profile", "rules": rules, "k_anonymity": "suppress"})
    second = steward.publish_policy("profile")
    assert second["changed"] is True and second["version"] == first["version"] + 1
    assert steward.latest_published_policy("profile").k_anonymity == "suppress"
    draft = steward.suggest_policy("profile", {"domain": "profile", "rules": {"ssn_no": {"treatment": "mask"}}})
    assert draft["policy"]["k_anonymity"] == "suppress"  # inference does not undo the steward's choice
    with pytest.raises(BadRequest, match="k_anonymity"):
        steward.put_policy_draft("channel", {"domain": "channel", "rules": {}, "k_anonymity": "suppress"})
