"""The region model and guard, and the batch file formats (no server, no Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.formats import detect_format, read_rows, write_rows
from batch.job import place, prepare_batch
from deid.domains import load_registry
from deid.errors import ConfigError
from deid.policy import Policy
from deid.regions import Egress, RegionGuardError, check_egress, locate, parse_locations
from deid.settings import Settings

LOCATIONS = [
    {"name": "eu-raw", "uri": "s3a://eu-raw/", "region": "eu", "side": "raw", "endpoint": "http://127.0.0.1:1"},
    {"name": "eu-memos", "uri": "s3a://eu-raw/memos/", "region": "eu", "side": "raw", "endpoint": "http://127.0.0.1:1"},
    {"name": "us-anon", "uri": "s3://us-anon", "region": "us", "side": "anonymised", "endpoint": "http://127.0.0.1:2"},
]  # fmt: skip
KEEP_TEXT = {"domain": "memo", "version": 1, "status": "published",
             "rules": {"memo_id": {"treatment": "keep"}, "text": {"treatment": "keep"}}}  # fmt: skip


def test_locations_validate_and_the_most_specific_one_wins() -> None:
    locations = parse_locations(LOCATIONS)
    assert locate("s3a://eu-raw/memos/2026/a.txt", locations).name == "eu-memos"  # type: ignore[union-attr]
    assert locate("s3a://us-anon/x/", locations).region == "us"  # type: ignore[union-attr]
    assert locate("s3a://elsewhere/", locations) is None
    with pytest.raises(ConfigError, match=r"DEID_STORAGE_LOCATIONS\[0\]\.side"):
        parse_locations([dict(LOCATIONS[0], side="cooked")])


def test_guard_refuses_a_kept_pii_field_leaving_its_region_naming_rule_and_regions() -> None:
    policy = Policy.from_document(KEEP_TEXT)
    egress = Egress("s3a://eu-raw/memos/", "eu", "s3a://us-anon/", "us", "anonymised")
    with pytest.raises(RegionGuardError) as refused:
        check_egress(egress, policy, {"text": "FREE_TEXT"})
    assert refused.value.exit_code == 2
    message = str(refused.value)
    assert "rules.text" in message and "region us" in message and "region eu" in message and "\n" not in message
    # Same region, raw side: nothing leaves, nothing to check.
    assert check_egress(Egress("a/", "eu", "b/", "eu", "raw"), policy, {"text": "FREE_TEXT"}) == []
    # Tags unknown: every kept field counts (memo_id too).
    with pytest.raises(RegionGuardError, match="unknown tag"):
        check_egress(egress, Policy.from_document(dict(KEEP_TEXT, rules={"memo_id": {"treatment": "keep"}})), None)


def test_an_exemption_lets_the_field_through_and_is_reported() -> None:
    rules = dict(KEEP_TEXT["rules"], text={"treatment": "keep", "exemption": {"reason": "DPO approved"}})
    policy = Policy.from_document(dict(KEEP_TEXT, rules=rules))
    egress = Egress("s3a://eu-raw/", "eu", "s3a://us-anon/", "us", "anonymised")
    assert check_egress(egress, policy, {"text": "FREE_TEXT"}) == ["rules.text (text: DPO approved)"]


def test_prepare_refuses_unknown_buckets_and_a_quarantine_in_another_region(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, storage_locations=LOCATIONS)
    domain = load_registry(settings).get("memo")
    policy = Policy.from_document(dict(KEEP_TEXT, rules={"text": {"treatment": "redact"}}))
    with pytest.raises(ConfigError, match="s3a://nowhere/ is not in a configured storage location"):
        place("s3a://nowhere/", settings, "eu")
    with pytest.raises(ConfigError, match="raw side of region eu"):
        prepare_batch(
            settings, domain, policy, "s3a://eu-raw/memos/", "s3a://us-anon/", quarantine_uri="s3a://us-anon/q/"
        )
    with pytest.raises(ConfigError, match="a batch run reads raw data"):
        prepare_batch(settings, domain, policy, "s3a://us-anon/", "s3a://eu-raw/out/")
    prepared = prepare_batch(settings, domain, policy, "s3a://eu-raw/memos/", "s3a://us-anon/memos/", pii={})
    assert (prepared.source.region, prepared.target.region, prepared.quarantine.spec.uri) == (
        "eu", "us", "s3a://eu-raw/memos/_quarantine/")  # fmt: skip


def test_formats_read_bad_rows_with_reasons_and_write_back() -> None:
    clicks = load_registry().get("clickstream")
    csv_rows = list(read_rows("csv", b"user_id,consent_level\nu1,2\nu2,high\nu3\n", "a.csv", clicks))
    assert csv_rows[0].record == {"user_id": "u1", "consent_level": 2}
    assert csv_rows[1].reason == "field 'consent_level': not a int" and csv_rows[1].record is None
    assert csv_rows[2].reason == "1 cells where the header has 2"
    lines = list(read_rows("jsonl", b'{"a": 1}\n\n{oops\n[1]\n', "a.jsonl", clicks))
    assert [r.reason for r in lines] == [None, "not valid JSON", "not a JSON object"]
    memo = load_registry().get("memo")
    (doc,) = read_rows("text", b"Dear Ann", "in/memo-7.txt", memo)
    assert doc.record == {"text": "Dear Ann", "memo_id": "memo-7"}
    for fmt in ("jsonl", "csv", "parquet"):
        data = write_rows(fmt, [{"user_id": "x", "consent_level": 1}], clicks)
        assert [r.record for r in read_rows(fmt, data, "f", clicks)] == [{"user_id": "x", "consent_level": 1}]
    assert detect_format("a/_manifest.json") is None and detect_format("a/b.NDJSON") == "jsonl"


def test_a_stream_worker_whose_output_cluster_is_in_another_region_is_guarded(tmp_path: Path) -> None:
    from pipelines.policy_source import StaticPolicySource
    from pipelines.worker import Worker, WorkerOptions

    policy = Policy.from_document(KEEP_TEXT)
    abroad = Worker(Settings(data_dir=tmp_path, region_out="us"), WorkerOptions("memo"), StaticPolicySource(policy))
    with pytest.raises(RegionGuardError, match=r"rules\.memo_id .* region us .* region eu"):
        abroad._check_region(policy)  # no catalog tags with a static policy: every kept field counts
    at_home = Worker(Settings(data_dir=tmp_path), WorkerOptions("memo"), StaticPolicySource(policy))
    at_home._check_region(policy)  # same region: the stream's own checks apply, not the guard
