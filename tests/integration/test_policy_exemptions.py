"""Publishing refuses a keep of a PII-tagged field without an exemption's reason (real catalog server,
SQLite and PostgreSQL); an exemption is stamped with who granted it and when, and audited."""

from __future__ import annotations

import pytest

from catalog.client import BadRequest
from tests.catalog_support import CatalogServer

DOMAIN = "profile"
CLUSTER = "eu"  # Settings().cluster, the default of the test catalog


def _tag_raw_field(catalog: CatalogServer, path: str, entity: str) -> None:
    attributes = {"qualifiedName": f"{DOMAIN}-raw-data.{path}@{CLUSTER}", "name": path}
    tag = {"typeName": entity, "attributes": {"status": "confirmed", "source": "steward", "confidence": 1.0}}
    catalog.client("steward").upsert_entities(
        [{"typeName": "avro_field", "attributes": attributes, "classifications": [tag]}]
    )


def _rules(name_rule: dict) -> dict:
    return {
        "domain": DOMAIN,
        "rules": {
            "name": name_rule,
            "gender": {"treatment": "keep"},
            "ssn_no": {"treatment": "mask"},
        },
    }


def test_keep_of_a_pii_field_needs_an_exemption_to_publish(catalog: CatalogServer) -> None:
    _tag_raw_field(catalog, "name", "PERSON")
    _tag_raw_field(catalog, "gender", "NON_PII")
    steward = catalog.client("steward")

    steward.put_policy_draft(DOMAIN, _rules({"treatment": "keep"}))
    with pytest.raises(BadRequest) as refused:
        steward.publish_policy(DOMAIN)
    message = str(refused.value)
    assert "rules.name" in message and "PERSON" in message and "exemption" in message
    assert "gender" not in message  # NON_PII kept in clear needs no reason

    exempted = {"treatment": "keep", "exemption": {"reason": "names of public office holders, published by law"}}
    draft = steward.put_policy_draft(DOMAIN, _rules(exempted))
    stamped = draft["policy"]["rules"]["name"]["exemption"]
    assert stamped["by"] == steward.user and stamped["at"]

    published = steward.publish_policy(DOMAIN)
    assert published["changed"] is True
    assert published["policy"]["rules"]["name"]["exemption"] == stamped
    assert steward.publish_policy(DOMAIN)["changed"] is False  # the stamp does not make a new version

    events = catalog.client("admin").audit_feed(action="POLICY_PUBLISH", user=steward.user, limit=1000)["events"]
    mine = [e for e in events if e.get("details", {}).get("version") == published["version"]]
    mine = [e for e in mine if e["details"].get("domain") == DOMAIN]
    assert mine and mine[-1]["details"]["exemptions"][0]["where"] == "rules.name"
    assert mine[-1]["details"]["exemptions"][0]["reason"].startswith("names of public office")


def test_a_consent_branch_that_keeps_pii_needs_its_own_exemption(catalog: CatalogServer) -> None:
    _tag_raw_field(catalog, "dob", "DATE_TIME")
    steward = catalog.client("steward")
    rules = _rules({"treatment": "mask"})
    rules["rules"]["dob"] = {
        "min_consent_level": 1,
        "with_consent": {"treatment": "keep"},
        "without_consent": {"treatment": "drop"},
    }
    steward.put_policy_draft(DOMAIN, rules)
    with pytest.raises(BadRequest, match=r"rules\.dob\.with_consent"):
        steward.publish_policy(DOMAIN)
