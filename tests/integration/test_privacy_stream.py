"""Issue 22 on the real stack (Kafka, registry): the worker's re-identification risk window, its
metrics and `deid risk`; deterministic and format-preserving encryption through a worker and back
with `deid reidentify`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from deid.events import EVENT_ID_HEADER
from deid.policy import Policy
from deid.stack.process import free_port
from pipelines.policy_source import StaticPolicySource
from pipelines.worker import Worker, WorkerOptions
from tests.catalog_support import CatalogServer
from tests.conftest import Broker, run_deid
from tests.integration.pipeline_support import avro_decoder, headers_of, pipeline_env, read_topic

pytestmark = pytest.mark.kafka


def _keep_dob_and_gender(document: dict[str, Any]) -> None:
    """The profile policy before issue 22: dob in clear when consented, gender kept."""
    document["rules"]["dob"]["with_consent"] = {"treatment": "keep"}
    document["rules"]["gender"] = {"treatment": "keep"}


def test_worker_measures_k_and_deid_risk_reads_it_back(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    env = pipeline_env(kafka, "profile", tmp_path, registry_url)
    env.produce(2000, seed=1)
    port = free_port()
    worker = Worker(
        env.worker_settings(),
        WorkerOptions(env.name, until_caught_up=True, metrics_port=port),
        StaticPolicySource(Policy.load(env.policy_file())),
    )
    summary = worker.run()
    assert summary.risk is not None and summary.risk.records == 2000
    assert summary.risk.min_k >= env.domain.target_k and summary.risk.below_target == 0
    assert any("min k" in line for line in summary.lines())
    assert worker.metrics.risk_min_k.values[worker.metrics.domain] == summary.risk.min_k
    rendered = worker.metrics.render()
    assert f'deid_pipeline_risk_min_k{{domain="{env.name}"}} {summary.risk.min_k}' in rendered
    assert 'deid_pipeline_risk_classes{domain="' in rendered and 'size="1"} 0' in rendered
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)  # the server stopped with the worker

    measured = run_deid("risk", env.name, "--json", "--check", env=env.env())
    assert measured.returncode == 0, measured.stderr
    document = json.loads(measured.stdout)
    assert document["min_k"] == summary.risk.min_k and document["records"] == 2000
    assert document["quasi_identifiers"] == ["dob", "gender"]
    raw_dobs = {raw["dob"] for raw in env.raw_values.values()}
    assert not raw_dobs & set(json.dumps(document).split('"'))  # counts only


def test_deid_risk_flags_the_legacy_profile_policy_and_suggests(
    kafka: Broker, tmp_path: Path, registry_url: str
) -> None:
    env = pipeline_env(kafka, "profile", tmp_path, registry_url)
    env.produce(1000, seed=2)
    assert (
        env.run("--policy-file", str(env.policy_file(edit=_keep_dob_and_gender)), "--until-caught-up").returncode == 0
    )
    flagged = run_deid("risk", env.name, "--check", env=env.env())
    assert flagged.returncode == 3, flagged.stderr
    assert "min k 1 (target 5)" in flagged.stdout and "to raise k:" in flagged.stdout
    assert "dob: generalise to" in flagged.stdout or "dob: drop it" in flagged.stdout
    unknown = run_deid("risk", "channel", env=env.env())
    assert unknown.returncode == 2 and "names no quasi_identifiers" in unknown.stderr


def test_k_anonymity_suppress_nulls_the_quasi_identifiers_of_small_classes(
    kafka: Broker, tmp_path: Path, registry_url: str
) -> None:
    """The legacy profile policy (dob and gender in clear: min k 1) with `k_anonymity: suppress`: every
    released (dob, gender) is shared by at least k output records compatible with it, the rest are nulled
    and counted, nothing else changes."""
    env = pipeline_env(kafka, "profile", tmp_path, registry_url)
    env.produce(1500, seed=3)

    def legacy_suppressed(document: dict[str, Any]) -> None:
        _keep_dob_and_gender(document)
        document["k_anonymity"] = "suppress"

    policy = Policy.load(env.policy_file(edit=legacy_suppressed))
    worker = Worker(env.worker_settings(), WorkerOptions(env.name, until_caught_up=True), StaticPolicySource(policy))
    summary = worker.run()
    assert summary.records_in == summary.records_out == 1500 and summary.dlq == 0
    decode = avro_decoder(registry_url)
    records = [decode(m.value()) for m in read_topic(env.settings, env.domain.anonymised_topic)]
    assert len(records) == 1500
    tuples = [(r["dob"], r["gender"]) for r in records]
    suppressed = tuples.count((None, None))
    assert 0 < suppressed == summary.k_suppressed < 1500
    k = env.domain.target_k
    for released in set(tuples) - {(None, None)}:
        assert tuples.count(released) + suppressed >= k
    raw_dobs = {raw["dob"] for raw in env.raw_values.values()} | {"REDACTED_CONTENT"}  # redacted without consent
    assert {dob for dob, _ in tuples if dob is not None} <= raw_dobs  # kept as they were, never invented
    assert f'deid_pipeline_k_suppressed_total{{domain="{env.name}",topic="{env.domain.anonymised_topic}"}}' in (
        worker.metrics.render()
    )


def _encrypt_modes(document: dict[str, Any]) -> None:
    document["rules"]["card_number"] = {"treatment": "encrypt", "params": {"mode": "fpe"}}
    document["rules"]["user_id"] = {"treatment": "encrypt", "params": {"mode": "deterministic"}}


def test_deterministic_and_fpe_tokens_through_a_worker_and_back(
    kafka: Broker, tmp_path: Path, registry_url: str, sqlite_catalog: CatalogServer
) -> None:
    env = pipeline_env(kafka, "movie", tmp_path, registry_url, catalog=sqlite_catalog)
    env.produce(60, seed=4)
    assert env.run("--policy-file", str(env.policy_file(edit=_encrypt_modes)), "--until-caught-up").returncode == 0
    decode = avro_decoder(registry_url)
    tokens_by_user: dict[str, set[str]] = {}
    out = read_topic(env.settings, env.domain.anonymised_topic)
    assert len(out) == 60
    for message in out:
        record = decode(message.value())
        raw = env.raw_values[headers_of(message)[EVENT_ID_HEADER]]
        card = record["card_number"]
        assert card != raw["card_number"] and len(card) == len(raw["card_number"]) and card.isdigit()
        assert ":siv." in record["user_id"] and raw["user_id"] not in record["user_id"]
        tokens_by_user.setdefault(raw["user_id"], set()).add(record["user_id"])
    assert all(len(tokens) == 1 for tokens in tokens_by_user.values())  # deterministic: joins work

    target = kafka.new_topic(prefix="reidentified")
    result = run_deid("reidentify", env.name, "--to-topic", target, "--from-beginning", "--max", "60", env=env.env())
    assert result.returncode == 0, result.stderr
    assert "120 value(s) decrypted, 0 erased" in result.stderr
    for message in read_topic(env.settings, target):
        record = json.loads(message.value())
        raw = env.raw_values[headers_of(message)[EVENT_ID_HEADER]]
        assert record["card_number"] == raw["card_number"] and record["user_id"] == raw["user_id"]


def test_a_subject_that_opted_out_never_again_has_its_ssn_in_clear(
    kafka: Broker, tmp_path: Path, registry_url: str
) -> None:
    env = pipeline_env(kafka, "profile", tmp_path, registry_url)
    first_ids = env.produce(800, seed=5)
    policy = str(env.policy_file())
    assert env.run("--policy-file", policy, "--until-caught-up").returncode == 0
    second_ids = env.produce(800, seed=6)  # the same people again, after a restart of the worker
    assert env.run("--policy-file", policy, "--until-caught-up").returncode == 0
    decode = avro_decoder(registry_url)
    out = {
        headers_of(m)[EVENT_ID_HEADER]: decode(m.value()) for m in read_topic(env.settings, env.domain.anonymised_topic)
    }
    opted_out: set[str] = set()
    ever_opted_out = {r["ssn_no"] for r in env.raw_values.values() if r["data_share_consent"] is False}
    consented_after_opt_out = 0
    for event_id in [*first_ids, *second_ids]:  # one partition: the order the worker saw
        raw, treated = env.raw_values[event_id], out[event_id]
        if raw["data_share_consent"] is False:
            opted_out.add(raw["ssn_no"])
        if raw["ssn_no"] in opted_out:
            consented_after_opt_out += raw["data_share_consent"] is True
            assert treated["ssn_no"] == "REDACTED_CONTENT", "an opted-out subject's SSN left in clear"
        elif raw["data_share_consent"] and raw["ssn_no"] not in ever_opted_out:
            assert treated["ssn_no"] == raw["ssn_no"]  # never opts out: its consent holds
        # (a consented row in the same batch before an opt-out may be redacted too: stricter, by design)
    assert opted_out and consented_after_opt_out > 0  # the case the issue names happened, and was held


def test_fpe_tokens_written_before_and_after_a_key_rotation_are_all_reidentified(
    kafka: Broker, tmp_path: Path, registry_url: str, sqlite_catalog: CatalogServer
) -> None:
    env = pipeline_env(kafka, "movie", tmp_path, registry_url, catalog=sqlite_catalog)
    policy_file = str(env.policy_file(edit=_encrypt_modes))
    env.produce(30, seed=5)
    assert env.run("--policy-file", policy_file, "--until-caught-up").returncode == 0
    rotated = run_deid("keys", "rotate", "--domain", env.name, env=env.env())
    assert rotated.returncode == 0, rotated.stderr
    assert f"fpe.{env.name}" in rotated.stdout and f"encrypt.{env.name}" in rotated.stdout
    env.produce(30, seed=6)
    assert env.run("--policy-file", policy_file, "--until-caught-up").returncode == 0

    decode = avro_decoder(registry_url)
    out = read_topic(env.settings, env.domain.anonymised_topic)
    assert len(out) == 60
    schema_ids = {int.from_bytes(message.value()[1:5], "big") for message in out}
    assert len(schema_ids) == 2  # the schema names the FPE key, so the rotation registered a new one
    assert all(decode(m.value())["card_number"] != env.raw_values[headers_of(m)[EVENT_ID_HEADER]]["card_number"]
               for m in out)  # fmt: skip

    target = kafka.new_topic(prefix="reidentified")
    result = run_deid("reidentify", env.name, "--to-topic", target, "--from-beginning", "--max", "60", env=env.env())
    assert result.returncode == 0, result.stderr
    assert "120 value(s) decrypted, 0 erased" in result.stderr
    for message in read_topic(env.settings, target):
        record = json.loads(message.value())
        raw = env.raw_values[headers_of(message)[EVENT_ID_HEADER]]
        assert record["card_number"] == raw["card_number"] and record["user_id"] == raw["user_id"]
