"""The worker's parts without a broker: raw decoding and DLQ headers, metrics exposition, catch-up
bookkeeping, policy sources and the watcher, the summary, re-identification helpers."""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.errors import ConfigError
from deid.policy import Policy
from deid.settings import Settings
from pipelines.avro import anonymised_schema
from pipelines.catch_up import CatchUp
from pipelines.dlq import ERROR_CLASSES, Rejection, decode_record, dlq_headers
from pipelines.keys import LocalKeystore
from pipelines.metrics import MetricsServer, PipelineMetrics
from pipelines.policy_source import FilePolicySource, PolicyWatcher, StaticPolicySource
from pipelines.reidentify import ERASED, Reidentifier, encrypted_fields
from pipelines.summary import Summary

POLICIES = Path(__file__).resolve().parents[2] / "pipelines" / "policies"


# --- decoding raw records ---


@pytest.mark.parametrize(
    ("value", "error_class", "reason"),
    [
        (None, "empty", "no value"),
        (b"", "empty", "no value"),
        (b"x" * 101, "too_large", "101 bytes, over the limit of 100"),
        (b'{"a": "caf\xe9"}', "invalid_utf8", "invalid UTF-8 at byte 10"),
        (b'{"a": 1', "invalid_json", "line 1 column"),
        (b'{"a": NaN}', "invalid_json", "invalid JSON"),
        (b'{"a": "\\udc00"}', "invalid_json", "surrogate"),
        (b'{"a": 1} {}', "invalid_json", "invalid JSON"),
        (b"[1, 2]", "not_object", "a JSON array"),
        (b"42", "not_object", "a JSON number"),
        (b"true", "not_object", "a JSON boolean"),
        (b"null", "not_object", "a JSON null"),
    ],
)
def test_malformed_raw_records_are_rejected_with_a_class_and_a_reason(
    value: bytes | None, error_class: str, reason: str
) -> None:
    with pytest.raises(Rejection) as caught:
        decode_record(value, max_bytes=100)
    assert caught.value.error_class == error_class and error_class in ERROR_CLASSES
    assert reason in caught.value.reason
    assert "caf" not in caught.value.reason  # no value from the record


def test_valid_records_decode_and_deep_nesting_is_rejected() -> None:
    assert decode_record(b'{"a": [1, {"b": null}], "c": "\\u00e9"}') == {"a": [1, {"b": None}], "c": "é"}
    with pytest.raises(Rejection, match="invalid JSON"):
        decode_record(b'{"a":' * 5000 + b"1" + b"}" * 5000, max_bytes=100_000)


def test_dlq_headers_say_why_and_where_but_not_what() -> None:
    rejection = Rejection("treatment", "field 'date': does not match the format '%d-%m-%Y'", "date")
    headers = dict(dlq_headers(rejection, "t-raw-data", 2, 41, b"gen:t:1:7", 3))
    assert headers == {
        "dlq_reason": b"field 'date': does not match the format '%d-%m-%Y'",
        "dlq_error_class": b"treatment",
        "dlq_field": b"date",
        "source_topic": b"t-raw-data",
        "source_partition": b"2",
        "source_offset": b"41",
        "policy_version": b"3",
        "event_id": b"gen:t:1:7",
    }
    assert "dlq_field" not in dict(dlq_headers(Rejection("empty", "no value"), "t", 0, 0, None, 1))


# --- metrics ---


def test_metrics_text_exposition_over_http() -> None:
    metrics = PipelineMetrics("channel")
    metrics.batch_committed(10, {"channel-anonymised-data": 9}, {"treatment": 1}, {"recommender": 4}, 0.02)
    metrics.batch_committed(5, {"channel-anonymised-data": 5}, {}, {}, 3.0)
    metrics.set_state(uncovered=2, policy_version=7)
    metrics.set_lag({0: 12, 1: 0})
    server = MetricsServer(metrics, 0).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            text = response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/other", timeout=10)
        assert missing.value.code == 404
    finally:
        server.stop()
    lines = set(text.splitlines())
    assert 'deid_pipeline_records_in_total{domain="channel"} 15' in lines
    assert 'deid_pipeline_records_out_total{domain="channel",topic="channel-anonymised-data"} 14' in lines
    assert 'deid_pipeline_dlq_total{domain="channel",error_class="treatment"} 1' in lines
    assert 'deid_pipeline_purpose_skipped_total{domain="channel",purpose="recommender"} 4' in lines
    assert 'deid_pipeline_uncovered_fields{domain="channel"} 2' in lines
    assert 'deid_pipeline_policy_version{domain="channel"} 7' in lines
    assert 'deid_pipeline_consumer_lag{domain="channel",partition="0"} 12' in lines
    assert 'deid_pipeline_batch_seconds_bucket{domain="channel",le="0.025"} 1' in lines
    assert 'deid_pipeline_batch_seconds_bucket{domain="channel",le="5"} 2' in lines
    assert 'deid_pipeline_batch_seconds_bucket{domain="channel",le="+Inf"} 2' in lines
    assert 'deid_pipeline_batch_seconds_count{domain="channel"} 2' in lines
    assert "# TYPE deid_pipeline_batch_seconds histogram" in lines
    metrics.forget_partitions([0])
    assert 'partition="0"' not in metrics.render()


def test_metrics_port_in_use_is_a_clear_config_error() -> None:
    first = MetricsServer(PipelineMetrics("d"), 0)
    try:
        with pytest.raises(ConfigError, match=rf"--metrics-port: cannot serve metrics on 127.0.0.1:{first.port}"):
            MetricsServer(PipelineMetrics("d"), first.port)
    finally:
        first.stop()


# --- catch-up ---


def test_catch_up_counts_every_assigned_partition_until_its_end() -> None:
    catch_up = CatchUp()
    assert not catch_up.finished()  # nothing assigned yet
    catch_up.assigned_once, catch_up.targets = True, {0: 100, 1: 50, 2: 0}
    catch_up.caught_up = {2}  # empty at assignment
    catch_up.committed(0, 99)
    assert not catch_up.finished()
    catch_up.committed(0, 100)
    catch_up.end_reached(1, 49)
    assert not catch_up.finished()
    catch_up.end_reached(1, 52)  # the end can lie past the last record (transaction markers)
    assert catch_up.finished()
    catch_up.targets[3] = 10  # gained in a rebalance: counts from then on
    assert not catch_up.finished()
    catch_up.on_revoke(None, [type("TP", (), {"partition": 3})()])  # type: ignore[arg-type]
    assert catch_up.finished()


def test_a_worker_without_partitions_is_caught_up_at_once() -> None:
    catch_up = CatchUp()
    catch_up.on_assign(None, [])  # type: ignore[arg-type]
    assert catch_up.finished()


# --- policy sources ---


def _write(path: Path, version: int, **changes: object) -> None:
    document = yaml.safe_load((POLICIES / "channel.yaml").read_text())
    document.update(version=version, **changes)
    path.write_text(yaml.safe_dump(document))
    stamp = time.time() + version  # a distinct modification time per write, however fast the test runs
    os.utime(path, (stamp, stamp))


def test_file_policy_source_rereads_on_change_and_refuses_drafts(tmp_path: Path) -> None:
    path = tmp_path / "channel.yaml"
    _write(path, 1)
    source = FilePolicySource(path)
    assert source.latest_published("channel").version == 1  # type: ignore[union-attr]
    _write(path, 2)
    assert source.latest_published("channel").version == 2  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="for domain 'channel', not 'movie'"):
        source.latest_published("movie")
    _write(path, 3, status="draft")
    with pytest.raises(ConfigError, match="status 'draft'"):
        source.latest_published("channel")
    _write(path, 4, rules={"date": {"treatment": "shred"}})
    with pytest.raises(ConfigError, match="unknown treatment 'shred'"):
        source.latest_published("channel")
    with pytest.raises(ConfigError, match="cannot read policy file"):
        FilePolicySource(tmp_path / "missing.yaml").latest_published("channel")


def test_watcher_polls_at_its_interval_and_keeps_the_running_policy_on_trouble(tmp_path: Path) -> None:
    path = tmp_path / "channel.yaml"
    _write(path, 1)
    now = [0.0]
    source = FilePolicySource(path)
    watcher = PolicyWatcher(source, "channel", source.latest_published("channel"), 5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    _write(path, 2)
    assert watcher.changed() is None  # not yet time to look
    now[0] = 5.0
    found = watcher.changed()
    assert found is not None and found.version == 2
    watcher.accept(found)
    now[0] = 10.0
    assert watcher.changed() is None  # same version
    _write(path, 3, rules="not a mapping")
    now[0] = 15.0
    assert watcher.changed() is None and watcher.current.version == 2  # broken file: keep running v2
    static = StaticPolicySource(found)
    assert static.latest_published("channel") is found and static.latest_published("movie") is None


def test_summary_lines() -> None:
    summary = Summary("channel", records_in=10, records_out=8, dlq_by_class={"treatment": 2}, seconds=2.0)
    summary.purposes = {"recommender": [5, 3]}
    summary.uncovered, summary.policy_versions = ["extra", "x.y"], [1, 2]
    assert summary.lines() == [
        "channel: 10 in, 8 out, 2 to DLQ (treatment 2) in 2.00 s (5 events/s; start-up 0.0 s), policy v1, v2",
        "  purpose recommender: 5 written, 3 left out by consent",
        "  dropped fields no rule covers: extra, x.y",
    ]


# --- re-identification helpers ---


def test_encrypted_fields_come_from_the_schema_docs() -> None:
    registry = load_registry()
    policy = Policy.load(POLICIES / "clickstream.yaml")
    schema = anonymised_schema(registry.get("clickstream"), policy)
    assert encrypted_fields(schema) == ["user_id"]
    nested = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "a", "type": "string", "doc": "deid: encrypt or keep (by consent)"},
            {"name": "b", "type": "string", "doc": "deid: mask"},
            {
                "name": "items",
                "type": ["null", {"type": "array", "items": ["null", {"type": "record", "name": "i", "fields": [
                    {"name": "secret", "type": ["null", "string"], "doc": "deid: encrypt"}]}]}],
            },
        ],
    }  # fmt: skip
    assert encrypted_fields(nested) == ["a", "items[].secret"]


def test_reidentifier_decrypts_keeps_and_marks_erased(tmp_path: Path) -> None:
    keystore = LocalKeystore.open(Settings(data_dir=tmp_path, master_key=Fernet.generate_key().decode()))
    from pipelines.transforms.fastcrypto import FastFernet

    ann, bob = keystore.subject_key("d", "ann"), keystore.subject_key("d", "bob")
    token_ann = ann.key_id + ":" + FastFernet(ann.material).encrypt(b"ann@example.org").decode()
    token_bob = bob.key_id + ":" + FastFernet(bob.material).encrypt(b"bob@example.org").decode()
    keystore.erase_subject("d", "bob")
    reidentifier = Reidentifier(keystore, lambda: None, "d")  # type: ignore[arg-type,return-value]
    assert reidentifier._decrypt(token_ann) == "ann@example.org"
    assert reidentifier._decrypt(token_bob) == ERASED
    assert reidentifier._decrypt("kept in clear") == "kept in clear" and reidentifier._decrypt(None) is None
    broken = reidentifier._decrypt(ann.key_id + ":gAAAAABbroken")
    assert set(broken) == {"$undecryptable"} and "ann@" not in broken["$undecryptable"]
    stats = reidentifier.stats
    assert (stats.decrypted, stats.erased, stats.undecryptable) == (1, 1, 1)
    keystore.close()
