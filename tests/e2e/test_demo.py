"""./scripts/demo as a new user runs it, on a clean data dir and its own ports (smaller counts): every
domain de-identified, no PII value of a raw event in clear in any anonymised topic, `tv_show` untouched,
`user_id` encrypted and re-identifiable; a second run resumes cleanly; a failure names its step."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from batch.job import place
from batch.store import open_store
from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from deid.stack.process import free_port
from deid.tail import read_all
from producers.memo import labelled_memos
from tests.conftest import REPO, run_deid, stack_env

pytestmark = pytest.mark.kafka
EVENTS = 200
SEED_EVENTS = 16


def _demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "demo"), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )


def _summary_rows(stdout: str) -> dict[str, list[str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("domain ") and "events in" in line)
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = line.split()
        rows[cells[0]] = cells
    return rows


# A shifted or generalised date may equal another person's raw date: such values are checked against their
# own anonymised twin only; every other protected value must not appear anywhere in the anonymised topic.
def _protected_values(raw: dict, policy: Policy, treatments: tuple[str, ...] | None = None) -> list[str]:
    """The raw event's values of fields the policy does not keep (strings of 5+ characters)."""
    values = []
    for path, rule in policy.rules.items():
        value = raw.get(path)
        treatment = getattr(rule, "treatment", None)
        if treatment in ("keep", None) or (treatments is not None and treatment not in treatments):
            continue
        if isinstance(value, str) and len(value) >= 5:
            values.append(value)
    return values


def _event_id(message) -> str:  # type: ignore[no-untyped-def]
    return dict(message.headers())["event_id"].decode()


@pytest.mark.timeout(900)  # three demo runs: all domains, two resumed, then memo + clickstream with --batch
def test_demo_from_nothing_then_again(tmp_path: Path) -> None:
    env = stack_env(tmp_path, HOME=str(tmp_path / "home"))
    try:
        first = _demo(env, "--events", str(EVENTS))
        assert first.returncode == 0, first.stderr[-4000:]
        domains = load_registry().names
        rows = _summary_rows(first.stdout)
        assert set(rows) == set(domains)
        for name, cells in rows.items():
            expected = EVENTS + (SEED_EVENTS if name == "channel" else 0)
            assert cells[1:4] == [str(expected), str(expected), "0"], cells  # in, out, DLQ
        assert "confirmed without review (demo mode)" in first.stdout
        assert "steward UI:" in first.stdout and "admin-password" in first.stdout

        settings = Settings(kafka_bootstrap=env["DEID_KAFKA_BOOTSTRAP"], data_dir=tmp_path)
        catalog_env = {**env, "DEID_MASTER_KEY_FILE": str(tmp_path / "home" / ".config" / "deid" / "master.key")}
        for name in domains:
            domain = load_registry().get(name)
            raw = {_event_id(m): json.loads(m.value()) for m in read_all(settings, domain.raw_topic)}
            twins = {_event_id(m): m.value() for m in read_all(settings, domain.anonymised_topic)}
            out = b"\n".join(twins.values())
            policy = Policy.from_document(json.loads(_published(env, name)))
            others = ("drop", "redact", "encrypt", "mask", "anonymize_text")
            leaked = set()
            for event_id, event in raw.items():
                leaked |= {v for v in _protected_values(event, policy, others) if v.encode() in out}
                leaked |= {v for v in _protected_values(event, policy) if v.encode() in twins[event_id]}
            assert not leaked, f"{name}: {len(leaked)} protected raw values in clear in the anonymised topic"

        tail = run_deid("tail", "channel-anonymised-data", "--from-beginning", "--max", "50", env=env)
        anonymised = [json.loads(line) for line in tail.stdout.splitlines()]
        raw_shows = {json.loads(m.value())["tv_show"] for m in read_all(settings, "channel-raw-data")}
        assert {"Barry", "Andi Mack"} <= raw_shows
        assert all(r["tv_show"] in raw_shows for r in anonymised)  # kept as it was
        assert all(":gAAAAA" in r["user_id"] for r in anonymised)  # encrypted (Fernet token with key id)
        restored = run_deid("reidentify", "channel", "--from-beginning", "--max", "5", env=catalog_env)
        assert restored.returncode == 0, restored.stderr
        raw_users = {json.loads(m.value())["user_id"] for m in read_all(settings, "channel-raw-data")}
        assert all(json.loads(line)["user_id"] in raw_users for line in restored.stdout.splitlines())

        second = _demo(env, "--events", str(EVENTS), "--domain", "channel", "--domain", "profile")
        assert second.returncode == 0, second.stderr[-4000:]
        assert f"channel-raw-data: already holds {EVENTS + SEED_EVENTS} events" in second.stderr
        assert "unchanged as v1" in second.stderr
        assert _summary_rows(second.stdout)["channel"][2] == str(EVENTS + SEED_EVENTS)  # no duplicates

        env.update(_storage_env())  # from here on `stack down` stops the MinIO servers too
        third = _demo(env, "--events", str(EVENTS), "--domain", "memo", "--domain", "clickstream", "--batch")
        assert third.returncode == 0, third.stderr[-4000:]
        _check_batch_step(third.stdout + third.stderr, env)
    finally:
        run_deid("stack", "down", env=env)


def _storage_env() -> dict[str, str]:
    """Two regions on free loopback ports, served by the stack's own MinIO servers (the demo's batch step)."""
    eu, us = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    locations = [
        {"name": "eu-raw", "uri": "s3a://eu-raw/", "region": "eu", "side": "raw", "endpoint": eu},
        {"name": "us-anonymised", "uri": "s3a://us-anonymised/", "region": "us", "side": "anonymised", "endpoint": us},
        {"name": "us-raw", "uri": "s3a://us-raw/", "region": "us", "side": "raw", "endpoint": us},
    ]
    return {
        "DEID_STORAGE_LOCATIONS": json.dumps(locations),
        "DEID_S3_ACCESS_KEY": "deid-demo-test",
        "DEID_S3_SECRET_KEY": secrets.token_urlsafe(24),
    }


def _check_batch_step(output: str, env: dict[str, str]) -> None:
    """30 memos and 500 clicks EU → US, the raw copy to the US refused, no memo's personal data in the output."""
    assert "memo: 30 in, 30 out, 0 quarantined" in output, output[-3000:]
    assert "clickstream: 500 in, " in output and "(EU → US, policy v" in output
    assert "refused as it should be: region guard" in output
    settings = Settings(
        data_dir=Path(env["DEID_DATA_DIR"]),
        storage_locations=json.loads(env["DEID_STORAGE_LOCATIONS"]),
        s3_access_key=env["DEID_S3_ACCESS_KEY"],
        s3_secret_key=env["DEID_S3_SECRET_KEY"],
    )
    raw = open_store(place("s3a://eu-raw/memos/", settings, "eu").spec)
    texts = {o.key: raw.read(o.key).decode() for o in raw.list() if o.key.endswith(".txt")}
    out = open_store(place("s3a://us-anonymised/memo/", settings, "us").spec)
    outputs = b"\n".join(out.read(o.key) for o in out.list() if o.key.endswith(".txt")).decode()
    assert len(texts) == 30 and outputs
    memos = labelled_memos(30, 2026)  # the demo writes MemoGenerator(memo, 2026)'s first 30 memos
    assert {text for text, _ in memos} == set(texts.values())
    personal = {text[start:end] for text, spans in memos for start, end, _ in spans if end - start >= 5}
    leaked = sorted(value for value in personal if value in outputs)
    assert not leaked, f"{len(leaked)} personal values of the EU memos in clear in the US bucket"


def _published(env: dict[str, str], domain: str) -> str:
    from catalog.client import CatalogClient

    settings = Settings(data_dir=Path(env["DEID_DATA_DIR"]), catalog_url=env["DEID_CATALOG_URL"])
    with CatalogClient.from_settings(settings) as client:
        policy = client.latest_published_policy(domain)
    assert policy is not None, domain
    return policy.to_json()


def test_demo_failure_names_the_step(tmp_path: Path) -> None:
    env = stack_env(tmp_path, DEID_KAFKA_BOOTSTRAP="kafka.example:9092", HOME=str(tmp_path / "home"))
    result = _demo(env)
    assert result.returncode == 1
    assert "demo failed at step 'start Kafka and the catalog'" in result.stderr
    assert "only listens on loopback" in result.stderr
    assert f"log: {(tmp_path / 'demo' / 'demo.log').resolve()}" in result.stderr
