"""Each seed domain end to end: produce, run the worker until caught up, read back, scan for PII, re-identify.

Real broker (session fixture), real registry over HTTP, real keystore with a master key in tmp, the worker
as a `deid pipeline run` subprocess with the domain's reviewed policy file. Each test works on a private
copy of the seed domain (own topics), so nothing else on the session broker interferes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from deid.events import EVENT_ID_HEADER
from deid.policy import ConsentRule, Policy, Rule
from pipelines.keys import LocalKeystore
from pipelines.transforms.base import as_text
from tests.catalog_support import CatalogServer
from tests.conftest import Broker, run_deid
from tests.integration.pipeline_support import (
    PipelineEnv,
    avro_decoder,
    headers_of,
    pipeline_env,
    read_topic,
)

pytestmark = pytest.mark.kafka
EVENTS = 300
EXACTLY_ONCE = {"channel", "movie", "profile", "clickstream"}



def _effective(rule: Rule, level: int | None) -> str:
    if isinstance(rule, ConsentRule):
        branch = rule.with_consent if level is not None and level >= rule.min_consent_level else rule.without_consent
        return branch.treatment
    return rule.treatment


def protected_values(env: PipelineEnv, rules: dict[str, Rule], raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, raw value) that must not appear in clear in an output written with `rules`: every field
    not kept for this row (treated or dropped); generalized fields are coarsened, not hidden."""
    consent = env.domain.consent
    level = consent.level_of(raw.get(consent.field)) if consent else None
    values = []
    for name, value in raw.items():
        rule = rules.get(name)
        treatment = _effective(rule, level) if rule is not None else "drop"
        if treatment not in {"keep", "generalize"} and value is not None:
            text = as_text(value)
            if text is not None and len(text) >= 3:
                values.append((name, text))
    return values


def scan_for_pii(env: PipelineEnv, policy: Policy, outputs: dict[str, list[Any]]) -> int:
    rules_by_topic = {env.domain.anonymised_topic: policy.rules}
    rules_by_topic.update({policy.purpose_topic(p): p.rules for p in policy.purposes})
    identifiers: set[str] = set()
    in_clear: set[str] = set()  # values some row legitimately keeps (e.g. a person opted in on another row)
    scanned = 0
    for topic, messages in outputs.items():
        for msg in messages:
            raw = env.raw_values[headers_of(msg)[EVENT_ID_HEADER]]
            blob = (msg.value() or b"") + (msg.key() or b"")
            protected = protected_values(env, rules_by_topic[topic], raw)
            in_clear |= {as_text(v) or "" for k, v in raw.items() if k not in {name for name, _ in protected}}
            for name, value in protected:
                assert value.encode() not in blob, f"{topic}: the raw value of {name} appears in clear"
                if env.domain.fields[name].type not in {"date", "timestamp"}:  # shifted dates may meet others
                    identifiers.add(value)
            scanned += 1
    everything = b"\n".join((m.value() or b"") + (m.key() or b"") for ms in outputs.values() for m in ms)
    leaked = [v for v in identifiers - in_clear if v.encode() in everything]
    assert not leaked, f"{len(leaked)} protected values of one record appear in another record's output"
    return scanned


def reidentified(env: PipelineEnv, count: int) -> list[dict[str, Any]]:
    result = run_deid(
        "reidentify", env.name, "--from-beginning", "--max", str(count), "--timeout", "20", "--with-meta",
        env=env.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("base", ["channel", "movie", "website", "mobile", "memo", "profile", "clickstream"])
def test_seed_domain_end_to_end(
    kafka: Broker, tmp_path: Path, registry_url: str, sqlite_catalog: CatalogServer, base: str
) -> None:
    env = pipeline_env(kafka, base, tmp_path, registry_url, partitions=2, catalog=sqlite_catalog)
    ids = env.produce(EVENTS, seed=11)
    policy_file = env.policy_file()
    policy = Policy.load(policy_file)
    mode = ["--exactly-once"] if base in EXACTLY_ONCE else []
    result = env.run("--policy-file", str(policy_file), "--until-caught-up", "--batch-size", "64", *mode)
    assert result.returncode == 0, result.stderr
    assert f"{env.name}: {EVENTS} in, {EVENTS} out, 0 to DLQ" in result.stdout

    main = read_topic(env.settings, env.domain.anonymised_topic)
    counts = Counter(headers_of(m)[EVENT_ID_HEADER] for m in main)
    assert set(counts) == set(ids)  # no loss
    if mode:
        assert all(n == 1 for n in counts.values())  # exactly once (read_committed)
    assert all(headers_of(m)["policy_version"] == "1" for m in main)
    outputs = {env.domain.anonymised_topic: main}
    outputs.update(
        {policy.purpose_topic(p): read_topic(env.settings, policy.purpose_topic(p)) for p in policy.purposes}
    )
    assert scan_for_pii(env, policy, outputs) == sum(len(m) for m in outputs.values())
    assert read_topic(env.settings, env.domain.dlq_topic) == []

    decode = avro_decoder(registry_url)
    records = {headers_of(m)[EVENT_ID_HEADER]: decode(m.value()) for m in main}
    CHECKS[base](env, records, outputs, decode)


def _check_encrypted_user(env: PipelineEnv, records: dict[str, dict[str, Any]], *_: Any) -> None:
    assert all(r["user_id"].startswith(("k", "s")) and ":gAAAAA" in r["user_id"] for r in records.values())
    restored = {r["event_id"]: r["value"] for r in reidentified(env, len(records))}
    assert set(restored) == set(records)
    for event_id, record in restored.items():
        raw = env.raw_values[event_id]
        assert record["user_id"] == raw["user_id"]
        kept = [f for f, rule in Policy.load(env.data_dir / "policy.yaml").rules.items() if rule.treatment == "keep"]
        assert all(record[f] == raw[f] for f in kept)


def _check_dates_shifted(field: str) -> Any:
    def check(env: PipelineEnv, records: dict[str, dict[str, Any]], *_: Any) -> None:
        by_subject: dict[Any, set[int]] = {}
        fmt = env.domain.fields[field].format
        from datetime import datetime

        for event_id, record in records.items():
            raw = env.raw_values[event_id]
            shift = (datetime.strptime(record[field], fmt) - datetime.strptime(raw[field], fmt)).days
            assert shift != 0 and abs(shift) <= 30
            by_subject.setdefault(raw[env.domain.subject_field], set()).add(shift)
        assert all(len(shifts) == 1 for shifts in by_subject.values())  # one constant offset per subject

    return check


def _check_channel(env: PipelineEnv, records: dict[str, dict[str, Any]], *rest: Any) -> None:
    _check_encrypted_user(env, records)
    _check_dates_shifted("date")(env, records)
    assert {r["tv_show"] for r in records.values()} == {r["tv_show"] for r in env.raw_values.values()}


def _check_movie(env: PipelineEnv, records: dict[str, dict[str, Any]], *rest: Any) -> None:
    _check_encrypted_user(env, records)
    by_card: dict[str, set[str]] = {}
    for event_id, record in records.items():
        by_card.setdefault(env.raw_values[event_id]["card_number"], set()).add(record["card_number"])
        assert len(record["card_number"]) == 32
    assert all(len(masks) == 1 for masks in by_card.values())  # same card, same pseudonym
    assert len({next(iter(m)) for m in by_card.values()}) == len(by_card)


def _check_mobile(env: PipelineEnv, records: dict[str, dict[str, Any]], *rest: Any) -> None:
    _check_dates_shifted("starting_time")(env, records)
    assert all(len(r["a_party"]) == 64 and r["duration"] == env.raw_values[e]["duration"] for e, r in records.items())


def _check_memo(env: PipelineEnv, records: dict[str, dict[str, Any]], *rest: Any) -> None:
    assert all(r["text"] == "REDACTED_CONTENT" for r in records.values())
    for event_id, record in records.items():
        raw = env.raw_values[event_id]["created_at"]
        assert record["created_at"].startswith(raw[:8]) and record["created_at"][8:10] == "01"


def _check_profile(env: PipelineEnv, records: dict[str, dict[str, Any]], *rest: Any) -> None:
    """The reviewed profile policy: name masked and gender dropped for everyone; with consent (the row's and
    its subject's: an opt-out holds for the person) the birth year and ssn_no, else both scrubbed."""
    opted_out = 0
    for event_id, record in records.items():
        raw = env.raw_values[event_id]
        assert "gender" not in record
        assert record["name"] != raw["name"] and len(record["name"]) == 16  # a keyed pseudonym
        assert record["evnt_time"] == raw["evnt_time"] and record["data_share_consent"] == raw["data_share_consent"]
        if record["data_redacted"]:
            opted_out += 1
            assert record["dob"] == record["ssn_no"] == "REDACTED_CONTENT"
        else:  # never in clear without the row's own consent
            assert raw["data_share_consent"] is True
            assert record["ssn_no"] == raw["ssn_no"] and record["dob"] == f"{raw['dob'][:4]}-01-01"
    assert 0 < opted_out < len(records)


def _check_clickstream(
    env: PipelineEnv, records: dict[str, dict[str, Any]], outputs: dict[str, list[Any]], decode: Any
) -> None:
    topic = f"{env.name}-recommender-data"
    recommended = {headers_of(m)[EVENT_ID_HEADER]: decode(m.value()) for m in outputs[topic]}
    qualifying = {e for e, raw in env.raw_values.items() if raw["consent_level"] >= 2}
    assert set(recommended) == qualifying and 0 < len(qualifying) < len(records)
    pseudonyms: dict[str, set[str]] = {}
    for event_id, record in recommended.items():
        raw = env.raw_values[event_id]
        pseudonyms.setdefault(raw["user_id"], set()).add(record["user_id"])
        assert record["email"] != raw["email"] and len(record["email"]) == 64
        assert set(record) == {"email", "event_type", "page_url", "ts", "user_id"}
    assert all(len(p) == 1 for p in pseudonyms.values())  # one user, one pseudonym
    assert len({next(iter(p)) for p in pseudonyms.values()}) == len(pseudonyms)  # users stay apart
    assert all(r["user_id"].startswith("s") for r in records.values())  # per-subject keys

    # Erase one subject: its values read as erased, the others still decrypt.
    subjects = Counter(raw["user_id"] for raw in env.raw_values.values())
    victim = subjects.most_common(1)[0][0]
    keystore = LocalKeystore.open(env.worker_settings())
    assert keystore.erase_subject(env.name, victim)
    keystore.close()
    restored = reidentified(env, len(records))
    assert len(restored) == len(records)
    for item in restored:
        raw = env.raw_values[item["event_id"]]
        expected = {"$erased": True} if raw["user_id"] == victim else raw["user_id"]
        assert item["value"]["user_id"] == expected


CHECKS = {
    "channel": _check_channel,
    "movie": _check_movie,
    "website": lambda env, records, *rest: (
        _check_encrypted_user(env, records),
        _check_dates_shifted("date")(env, records),
    ),
    "mobile": _check_mobile,
    "memo": _check_memo,
    "profile": _check_profile,
    "clickstream": _check_clickstream,
}
