"""The policy model: parsing, errors that name paths, checks against domains, export, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.domains import Domain, load_registry, parse_domains
from deid.policy import (
    ALLOWED_TREATMENTS,
    GENERALIZE_KINDS,
    TREATMENTS,
    ConsentRule,
    EncryptRule,
    GeneralizeParams,
    MaskParams,
    Policy,
    PolicyError,
    check_policy,
    default_policy,
    default_rule,
    make_rule,
    split_path,
    treatment_options,
)

CHANNEL_POLICY = """
domain: channel
version: 1
status: published
rules:
  user_id: {treatment: encrypt}
  date: {treatment: date_shift, params: {max_days: 30}}
  tv_show: {treatment: keep}
  channel_name: {treatment: keep}
  tv_show_type: {treatment: keep}
"""

PROFILE_POLICY = """
domain: profile
version: 2
status: published
rules:
  name: {treatment: mask, params: {encoding: base64url, length: 12}}
  dob:
    with_consent: {treatment: keep}
    without_consent: {treatment: redact, params: {flag: true}}
  ssn_no:
    with_consent: {treatment: keep}
    without_consent: {treatment: redact, params: {value: REDACTED_CONTENT, flag: true}}
  gender: {treatment: keep}
  data_share_consent: {treatment: keep}
  evnt_time: {treatment: generalize, params: {kind: date_month}}
"""

CLICKSTREAM_POLICY = """
domain: clickstream
version: 1
status: published
rules:
  user_id: {treatment: encrypt, params: {key_scope: subject}}
  email: {treatment: mask}
  ip_address: {treatment: generalize, params: {kind: ipv4_24}}
  consent_level: {treatment: keep}
purposes:
  - name: recommender
    min_consent_level: 2
    rules:
      user_id: {treatment: mask, params: {key: recommender}}
      email: {treatment: mask}
      page_url: {treatment: keep}
  - name: analytics
    consent_levels: [3, 1]
    rules:
      page_url: {treatment: keep}
"""


def domain(name: str) -> Domain:
    return load_registry().get(name)


def errors_of(text: str, check_against: str | None = None) -> str:
    with pytest.raises(PolicyError) as info:
        policy = Policy.from_yaml(text, "p.yaml")
        if check_against:
            check_policy(policy, domain(check_against), "p.yaml")
    return str(info.value)


def test_seed_policies_parse_and_fit_their_domains() -> None:
    for text, name in [(CHANNEL_POLICY, "channel"), (PROFILE_POLICY, "profile"), (CLICKSTREAM_POLICY, "clickstream")]:
        policy = Policy.from_yaml(text)
        check_policy(policy, domain(name))
        assert policy.domain == name and policy.status == "published"


def test_typed_parameters_and_defaults() -> None:
    policy = Policy.from_yaml(CLICKSTREAM_POLICY)
    user = policy.rules["user_id"]
    assert isinstance(user, EncryptRule) and user.params.key_scope == "subject"
    assert isinstance(policy.rules["email"].params, MaskParams)
    assert policy.rules["email"].params.encoding == "hex" and policy.rules["email"].params.length is None
    ip = policy.rules["ip_address"].params
    assert isinstance(ip, GeneralizeParams) and ip.kind == "ipv4_24"
    dob = Policy.from_yaml(PROFILE_POLICY).rules["dob"]
    assert isinstance(dob, ConsentRule) and dob.min_consent_level == 1
    assert dob.with_consent.treatment == "keep" and dob.without_consent.params.flag is True


def test_purposes_topics_and_admission() -> None:
    policy = Policy.from_yaml(CLICKSTREAM_POLICY)
    assert [p.name for p in policy.purposes] == ["analytics", "recommender"]  # sorted for stable export
    analytics, recommender = policy.purposes
    assert policy.purpose_topic(recommender) == "clickstream-recommender-data"
    assert [recommender.admits(level) for level in (None, 0, 1, 2, 3)] == [False, False, False, True, True]
    assert analytics.consent_levels == [1, 3]
    assert [analytics.admits(level) for level in (0, 1, 2, 3)] == [False, True, False, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "domain: channel\nrules:\n  user_id: {treatment: encrypt, params: {key_scop: subject}}\n",
            "p.yaml: rules.user_id.params.key_scop: unknown parameter 'key_scop'",
        ),
        (
            "domain: channel\nrules:\n  user_id: {treatment: encrypted}\n",
            "p.yaml: rules.user_id: unknown treatment 'encrypted'; known: keep, drop",
        ),
        ("domain: channel\nrules:\n  user_id: {params: {}}\n", "rules.user_id: missing 'treatment'"),
        ("domain: channel\nrules:\n  user_id: {treatment: keep, note: x}\n", "rules.user_id.note: unknown key 'note'"),
        ("domain: channel\nrules:\n  a..b: {treatment: keep}\n", "rules.a..b: invalid field path"),
        ("domain: channel\nrules:\n  user_id: {treatment: generalize}\n", "rules.user_id: missing key 'params'"),
        (
            "domain: channel\nrules:\n  x: {treatment: generalize, params: {kind: number_bucket}}\n",
            "rules.x.params: Value error, size: number_bucket needs a bucket 'size'".replace("Value error, ", ""),
        ),
        (
            "domain: channel\nrules:\n  x: {treatment: mask, params: {encoding: base64url, length: 50}}\n",
            "length: base64url pseudonyms have at most 43 characters",
        ),
        (
            "domain: profile\nrules:\n  dob:\n    with_consent: {treatment: keep}\n"
            "    without_consent: {treatment: redact, params: {flagg: true}}\n",
            "rules.dob.without_consent.params.flagg: unknown parameter 'flagg'",
        ),
        (
            "domain: c\nrules: {}\npurposes:\n  - {name: raw, rules: {}}\n",
            "purposes[0].name: 'raw' is reserved",
        ),
        (
            "domain: c\nrules: {}\npurposes:\n  - {name: r, min_consent_level: 1, consent_levels: [1], rules: {}}\n",
            "give either min_consent_level (cumulative) or consent_levels (granular), not both",
        ),
        ("domain: c\nstatus: published\nrules: {}\n", "a published policy has a version >= 1"),
        ("domain: c\nstatus: final\nrules: {}\n", "status: Input should be 'draft' or 'published'"),
        ("domain: c\nrules: {x: {treatment: keep}\n", "p.yaml: not valid YAML at line"),
        ("- a list\n", "p.yaml: a policy document must be a mapping"),
    ],
)
def test_malformed_documents_name_the_path(text: str, expected: str) -> None:
    assert expected in errors_of(text)


def test_every_problem_is_reported_at_once() -> None:
    message = errors_of(
        "domain: channel\nrules:\n  user_id: {treatment: nope}\n  date: {treatment: mask, params: {bogus: 1}}\n"
    )
    assert "rules.user_id: unknown treatment 'nope'" in message
    assert "rules.date.params.bogus: unknown parameter 'bogus'" in message


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("ghost: {treatment: keep}", "rules.ghost: unknown field 'ghost'; domain 'channel' has: channel_name"),
        ("tv_show: {treatment: generalize, params: {kind: date_month}}", "rules.tv_show.params.kind: 'date_month'"),
        ("date: {treatment: anonymize_text}", "rules.date.treatment: 'anonymize_text' does not apply to a date field"),
        ("date: {treatment: generalize, params: {kind: ipv4_24}}", "allowed: date_month"),
        ("tv_show: {treatment: date_shift}", "rules.tv_show.params.format: this field has no date format"),
        (
            "tv_show:\n    with_consent: {treatment: keep}\n    without_consent: {treatment: drop}",
            "rules.tv_show: a consent rule needs a domain with a consent field",
        ),
    ],
)
def test_checks_against_the_domain_name_the_path(rules: str, expected: str) -> None:
    text = f"domain: channel\nrules:\n  {rules}\n"
    assert expected in errors_of(text, check_against="channel")


def test_domain_dependent_parameters() -> None:
    memo = (
        "domain: memo\nrules:\n  created_at: {treatment: date_shift}\n"
        "  memo_id: {treatment: encrypt, params: {key_scope: subject}}\n"
    )
    message = errors_of(memo, check_against="memo")
    assert "rules.created_at.params.date_shift needs the domain's subject_field" in message
    assert "rules.memo_id.params.key_scope: 'subject' needs the domain's subject_field" in message
    mobile = "domain: mobile\nrules:\n  duration: {treatment: generalize, params: {kind: number_bucket, size: 2.5}}\n"
    assert "an int field needs a whole-number bucket size" in errors_of(mobile, check_against="mobile")
    wrong = "domain: movie\nrules: {}\n"
    assert "domain: policy is for 'movie', not 'channel'" in errors_of(wrong, check_against="channel")
    purpose = "domain: channel\nrules: {}\npurposes:\n  - {name: r, min_consent_level: 2, rules: {}}\n"
    assert "purposes[0]: consent levels need a domain with a consent field" in errors_of(purpose, "channel")
    bad_purpose_rule = "domain: channel\nrules: {}\npurposes:\n  - {name: r, rules: {nope: {treatment: keep}}}\n"
    assert "purposes[0].rules.nope: unknown field 'nope'" in errors_of(bad_purpose_rule, "channel")


def test_nested_paths_are_checked_against_nested_domain_fields() -> None:
    nested = parse_domains(
        {
            "orders": {
                "subject_field": "customer.id",
                "fields": {
                    "customer.id": {"type": "string"},
                    "customer.address.postcode": {"type": "string"},
                    "items[].sku": {"type": "string"},
                    "items[].price": {"type": "double"},
                    "tags[]": {"type": "string"},
                },
            }
        },
        "test",
    )["orders"]
    policy = Policy.from_yaml(
        "domain: orders\nrules:\n"
        "  customer.id: {treatment: mask}\n"
        "  customer.address.postcode: {treatment: generalize, params: {kind: postcode_prefix, length: 3}}\n"
        "  items[].price: {treatment: generalize, params: {kind: number_bucket, size: 10}}\n"
        "  tags[]: {treatment: keep}\n"
    )
    check_policy(policy, nested)
    assert policy.uncovered_fields(nested) == ["items[].sku"]
    assert split_path("items[].price") == [("items", True), ("price", False)]
    assert split_path("customer.address.postcode") == [("customer", False), ("address", False), ("postcode", False)]
    bad = policy.model_copy(update={"rules": {**policy.rules, "items[].colour": make_rule("keep")}})
    with pytest.raises(PolicyError, match=r"rules\.items\[\]\.colour: unknown field"):
        check_policy(bad, nested)


def test_export_is_stable_and_round_trips() -> None:
    policy = Policy.from_yaml(CLICKSTREAM_POLICY)
    text = policy.to_yaml()
    # Rules sorted by path and purposes by name, defaults written out, empty params left out.
    assert text.index("consent_level:") < text.index("email:") < text.index("ip_address:") < text.index("user_id:")
    assert text.index("name: analytics") < text.index("name: recommender")
    assert "key_scope: subject" in text and "encoding: hex" in text
    assert Policy.from_yaml(text) == policy
    assert Policy.from_json(policy.to_json()) == policy
    shuffled = Policy.from_document(dict(reversed(list(json.loads(policy.to_json()).items()))))
    assert shuffled.to_yaml() == text  # key order of the input does not matter
    assert "params" not in Policy.from_yaml(CHANNEL_POLICY).to_document()["rules"]["tv_show"]


def test_load_from_files(tmp_path: Path) -> None:
    policy = Policy.from_yaml(PROFILE_POLICY)
    (tmp_path / "p.yaml").write_text(policy.to_yaml())
    (tmp_path / "p.json").write_text(policy.to_json())
    assert Policy.load(tmp_path / "p.yaml") == policy == Policy.load(tmp_path / "p.json")
    (tmp_path / "bad.json").write_text('{\n  "domain": \n}')
    with pytest.raises(PolicyError, match=r"bad\.json: not valid JSON at line 3"):
        Policy.load(tmp_path / "bad.json")
    with pytest.raises(PolicyError, match="cannot read policy file"):
        Policy.load(tmp_path / "missing.yaml")


def test_treatment_options_per_field_type() -> None:
    assert [o["treatment"] for o in treatment_options("boolean")] == ["keep", "drop", "redact", "encrypt"]
    date_options = {o["treatment"]: o for o in treatment_options("date")}
    assert date_options["generalize"]["kinds"] == ["date_month", "date_year"]
    assert "max_days" in date_options["date_shift"]["params_schema"]["properties"]
    assert "anonymize_text" in ALLOWED_TREATMENTS["text"] and "generalize" not in ALLOWED_TREATMENTS["text"]
    assert set(GENERALIZE_KINDS["string"]) == {"ipv4_24", "ipv6_48", "postcode_prefix", "url_site"}
    for allowed in ALLOWED_TREATMENTS.values():
        assert set(allowed) <= set(TREATMENTS)


def test_default_policy_per_entity() -> None:
    channel = domain("channel")
    policy = default_policy(
        channel, {"user_id": "USER_ID", "date": "DATE_TIME", "tv_show": "NON_PII", "channel_name": None}
    )
    check_policy(policy, channel)
    assert policy.status == "draft"
    assert {p: r.treatment for p, r in policy.rules.items()} == {
        "channel_name": "keep",
        "date": "date_shift",
        "tv_show": "keep",
        "user_id": "encrypt",
    }
    assert policy.uncovered_fields(channel) == ["tv_show_type"]
    movie, memo, profile = domain("movie"), domain("memo"), domain("profile")
    assert default_rule("CUSTOM_CREDIT_CARD", movie.fields["card_number"], movie).treatment == "mask"
    assert default_rule("EMAIL_ADDRESS", domain("clickstream").fields["email"], movie).treatment == "mask"
    assert default_rule("PHONE_NUMBER", domain("mobile").fields["a_party"], movie).treatment == "mask"
    assert default_rule("IBAN_CODE", movie.fields["user_id"], movie).treatment == "mask"
    text_rule = default_rule("PERSON", memo.fields["text"], memo, ["PERSON", "IBAN_CODE", "PERSON"])
    assert text_rule.treatment == "anonymize_text" and text_rule.params.entities == ["IBAN_CODE", "PERSON"]
    # No subject: a date cannot be shifted per subject, so it is generalised to its month.
    created = default_rule("DATE_TIME", memo.fields["created_at"], memo)
    assert created.treatment == "generalize" and created.params.kind == "date_month"
    # A personal-data boolean cannot be masked: redacted instead.
    assert default_rule("US_SSN", profile.fields["data_share_consent"], profile).treatment == "redact"
    assert default_rule("PERSON", profile.fields["name"], profile).treatment == "mask"
    for name in ("channel", "movie", "mobile", "profile", "memo", "website", "clickstream"):
        d = domain(name)
        check_policy(default_policy(d, {f: "PERSON" for f in d.fields}), d)


def test_policy_model_does_not_import_pipelines() -> None:
    import subprocess
    import sys

    code = "import sys, deid.policy; print(sorted(m for m in sys.modules if m.split('.')[0] == 'pipelines'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
