"""Batch de-identification on real MinIO servers (eu raw, us anonymised) and real Spark local[2]."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from batch.infer import infer_files
from batch.job import run_batch
from batch.store import S3Store, StoreSpec
from deid.domains import load_registry
from deid.policy import Policy
from deid.regions import RegionGuardError
from deid.settings import Settings
from deid.stack import services
from deid.stack.process import free_port, port_in_use
from deid.stack.storage import EmbeddedStorage, MinioServer
from pipelines.keys import KeyErasedError, open_keystore
from pipelines.transforms.encrypt import TokenDecryptor
from schema_inference.run import run_inference
from tests.conftest import REPO, deid_env, run_deid
from tests.integration.minio_support import MINIO, Regions, minio_regions

pytestmark = pytest.mark.timeout(600)

# Written for this test (not drawn from the memo generator the NER model is trained on).
MEMOS = [
    (
        "Call from Margaret Thornbury on 2026-03-02: she asked to move her refund to IBAN DE44500105175407324931. "
        "Reach her at +49 30 901820 or margaret.thornbury@example.org."
    ),
    (
        "Olusegun Adeyemi phoned about his late invoice. Callback number 0161 496 0735, email "
        "o.adeyemi@example.net. Refund account GB33BUKB20201555555555."
    ),
    (
        "Note: Ingrid Halvorsen wants paper statements. Her new address mail is ingrid.h@example.com; "
        "mobile +33 6 12 34 56 78. Pays from FR7630006000011234567890189."
    ),
    (
        "Pieter van der Berg complained twice. Phone +31 20 794 8100. IBAN NL91ABNA0417164300. "
        "Wrote from pieter.vdberg@example.org."
    ),
]
PII = [
    ["Margaret Thornbury", "DE44500105175407324931", "+49 30 901820", "margaret.thornbury@example.org"],
    ["Olusegun Adeyemi", "0161 496 0735", "o.adeyemi@example.net", "GB33BUKB20201555555555"],
    ["Ingrid Halvorsen", "ingrid.h@example.com", "+33 6 12 34 56 78", "FR7630006000011234567890189"],
    ["Pieter van der Berg", "+31 20 794 8100", "NL91ABNA0417164300", "pieter.vdberg@example.org"],
]
MEMO_POLICY = {
    "domain": "memo",
    "version": 1,
    "status": "published",
    "rules": {
        "created_at": {"treatment": "generalize", "params": {"kind": "date_month"}},
        "memo_id": {"treatment": "keep"},
        "text": {"treatment": "anonymize_text"},
    },
}
MEMO_TAGS = {"text": "FREE_TEXT"}
CLICK_TAGS = {
    "email": "EMAIL_ADDRESS",
    "user_id": "USER_ID",
    "session_id": "SESSION_ID",
    "ip_address": "IP_ADDRESS",
    "device_id": "DEVICE_ID",
}


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    yield from minio_regions(tmp_path_factory.mktemp("minio"))


def _settings(regions: Regions, tmp_path: Path) -> Any:
    return regions.settings(tmp_path / "deid", master_key=Fernet.generate_key().decode())


def _objects(regions: Regions, uri: str, suffix: str = "") -> dict[str, bytes]:
    store = regions.store(uri)
    return {o.key: store.read(o.key) for o in store.list() if o.key.endswith(suffix)}


def _click_rows(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "session_id": f"sess-{i:05d}",
            "user_id": f"user-{i:05d}",
            "email": f"visitor{i}@example.com",
            "event_type": "view",
            "page_url": f"/p/{i}",
            "ts": "2026-11-30T10:00:00.000000+0000",
            "ip_address": f"192.0.2.{i % 250}",
            "device_id": f"dev-{i}",
            "consent_level": i % 4,
        }
        for i in range(start, start + count)
    ]


def _csv(rows: list[dict[str, Any]]) -> bytes:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[c]) for c in header) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def test_memos_from_the_eu_bucket_reach_the_us_bucket_with_no_pii_in_clear(
    regions: Regions, spark: Any, tmp_path: Path
) -> None:
    settings = _settings(regions, tmp_path)
    raw = regions.store("s3a://eu-raw/memos/")
    for index, text in enumerate(MEMOS):
        raw.write(f"2026-11-30/memo-{index:03d}.txt", text.encode())
    policy = Policy.from_document(MEMO_POLICY)
    domain = load_registry(settings).get("memo")

    report = run_batch(
        spark, settings, domain, policy, "s3a://eu-raw/memos/", "s3a://us-anonymised/memos/", pii=MEMO_TAGS
    )

    assert report.counts["rows_in"] == len(MEMOS) and report.counts["rows_out"] == len(MEMOS)
    outputs = _objects(regions, "s3a://us-anonymised/memos/", ".txt")
    assert len(outputs) == len(MEMOS)
    assert all(key.startswith("anonymised/memo/") and "/run-" in key for key in outputs)
    texts = [data.decode() for data in outputs.values()]
    for values in PII:
        for value in values:
            assert not any(value in text for text in texts), f"a {len(value)}-character PII value left in clear"
    assert all("<" in text for text in texts)  # placeholders such as <PERSON> took the values' place
    manifest = orjson.loads(_objects(regions, "s3a://us-anonymised/memos/", "_manifest.json").popitem()[1])
    assert manifest["regions"] == {"input": "eu", "output": "us", "output_side": "anonymised"}
    assert {f["key"] for f in manifest["files"]} == {f"2026-11-30/memo-{i:03d}.txt" for i in range(len(MEMOS))}
    first = next(f for f in manifest["files"] if f["key"] == "2026-11-30/memo-000.txt")
    assert first["sha256"] == hashlib.sha256(MEMOS[0].encode()).hexdigest() and first["size"] == len(MEMOS[0].encode())
    assert manifest["policy_version"] == 1


def test_clickstream_batch_consent_outputs_quarantine_rerun_and_erasure(
    regions: Regions, spark: Any, tmp_path: Path
) -> None:
    settings = _settings(regions, tmp_path)
    raw = regions.store("s3a://eu-raw/clicks/")
    jsonl_rows, csv_rows, parquet_rows = _click_rows(0, 20), _click_rows(20, 12), _click_rows(32, 12)
    jsonl = b"".join(orjson.dumps(r) + b"\n" for r in jsonl_rows) + b"{broken\n[1, 2]\n"
    bad_csv_row = dict(csv_rows[0], consent_level="high")
    raw.write("day1/a.jsonl", jsonl)
    raw.write("day1/b.csv", _csv([*csv_rows, bad_csv_row]))
    raw.write("day1/c.parquet", _parquet(parquet_rows))
    raw.write("day1/d.parquet", b"PAR1 this is not a parquet file")
    domain = load_registry(settings).get("clickstream")
    policy = Policy.load(REPO / "pipelines" / "policies" / "clickstream.yaml")
    good = jsonl_rows + csv_rows + parquet_rows

    report = run_batch(
        spark, settings, domain, policy, "s3a://eu-raw/clicks/", "s3a://us-anonymised/clicks/", pii=CLICK_TAGS
    )

    assert report.counts["rows_out"] == len(good)
    assert report.counts["quarantined"] == 3 and report.counts["unreadable_files"] == 1
    main = _decoded(_objects(regions, "s3a://us-anonymised/clicks/anonymised/"))
    purpose = _decoded(_objects(regions, "s3a://us-anonymised/clicks/recommender/"))
    assert len(main) == len(good)
    clear = {r["email"] for r in good} | {r["user_id"] for r in good}
    assert not clear & {str(v) for row in main + purpose for v in row.values()}
    qualifying = [r for r in main if int(r["consent_level"]) >= 2]
    assert len(purpose) == sum(1 for r in good if r["consent_level"] >= 2) == len(qualifying)
    assert {r["email"] for r in purpose} == {r["email"] for r in qualifying}  # same masked ids in both outputs

    problems = [orjson.loads(line) for data in _objects(regions, "s3a://eu-raw/clicks/_quarantine/").values()
                for line in data.splitlines()]  # fmt: skip
    reasons = {(p["source"], p["reason"]) for p in problems}
    assert ("day1/a.jsonl", "not valid JSON") in reasons and ("day1/a.jsonl", "not a JSON object") in reasons
    assert ("day1/b.csv", "field 'consent_level': not a int") in reasons
    assert any(s == "day1/d.parquet" and r.startswith("unreadable file") for s, r in reasons)
    assert not _objects(regions, "s3a://us-anonymised/clicks/", ".parquet").keys() & {"day1/d.parquet"}

    again = run_batch(
        spark, settings, domain, policy, "s3a://eu-raw/clicks/", "s3a://us-anonymised/clicks/", pii=CLICK_TAGS
    )
    assert again.run_id is None and sorted(again.skipped) == [
        "day1/a.jsonl",
        "day1/b.csv",
        "day1/c.parquet",
        "day1/d.parquet",
    ]
    raw.write("day2/e.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in _click_rows(100, 5)))
    third = run_batch(
        spark, settings, domain, policy, "s3a://eu-raw/clicks/", "s3a://us-anonymised/clicks/", pii=CLICK_TAGS
    )
    assert [f.key for f in third.files] == ["day2/e.jsonl"] and third.counts["rows_out"] == 5

    # Erasure: the subject's batch tokens become unreadable, like its stream tokens.
    token = next(r["user_id"] for r in main if r["page_url"] == "/p/7")
    keystore = open_keystore(settings)
    decryptor = TokenDecryptor(keystore)
    assert decryptor.decrypt(token) == "user-00007"
    keystore.erase_subject("clickstream", "user-00007")
    with pytest.raises(KeyErasedError):
        TokenDecryptor(keystore).decrypt(token)


def _profile_row(i: int, dob: str, gender: str) -> dict[str, Any]:
    return {
        "name": f"Person {i}",
        "dob": dob,
        "gender": gender,
        "ssn_no": f"ssn-{i:04d}",
        "data_share_consent": True,
        "evnt_time": "2026-11-30T10:00:00+0000",
    }


def test_k_anonymity_suppress_counts_classes_over_the_whole_run_not_per_file(
    regions: Regions, spark: Any, tmp_path: Path
) -> None:
    """`k_anonymity: suppress` in a batch run: (1980, F) has 3 rows in each file, 6 in the run (k = 5), so it
    stays; (1990, M) with 3 and (1975, F) with 1 are nulled. Counting per file would have nulled all."""
    settings = _settings(regions, tmp_path)
    raw = regions.store("s3a://eu-raw/profiles/")
    first = [_profile_row(0, "1980-01-02", "F"), _profile_row(1, "1980-05-06", "F"), _profile_row(2, "1980-07-08", "F")]
    first += [
        _profile_row(3, "1990-01-01", "M"),
        _profile_row(4, "1990-02-02", "M"),
        _profile_row(5, "1975-03-03", "F"),
    ]
    second = [_profile_row(6 + i, f"1980-1{i}-01", "F") for i in range(3)] + [_profile_row(9, "1990-12-12", "M")]
    raw.write("day1/a.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in first))
    raw.write("day1/b.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in second))
    domain = load_registry(settings).get("profile")
    policy = Policy.model_validate(
        {
            "domain": "profile",
            "version": 1,
            "status": "published",
            "k_anonymity": "suppress",
            "rules": {
                "name": {"treatment": "mask"},
                "dob": {"treatment": "generalize", "params": {"kind": "date_year"}},
                "gender": {"treatment": "keep"},
                "ssn_no": {"treatment": "redact"},
                "data_share_consent": {"treatment": "keep"},
                "evnt_time": {"treatment": "keep"},
            },
        }
    )
    pii = {"name": "PERSON", "ssn_no": "NATIONAL_ID", "dob": "DATE_OF_BIRTH"}

    report = run_batch(
        spark, settings, domain, policy, "s3a://eu-raw/profiles/", "s3a://us-anonymised/profiles/", pii=pii
    )

    assert report.counts["rows_out"] == 10 and report.counts["k_suppressed"] == {"anonymised": 4}
    rows = _decoded(_objects(regions, "s3a://us-anonymised/profiles/anonymised/"))
    tuples = sorted((str(r["dob"]), r["gender"]) for r in rows)
    assert tuples == [("1980-01-01", "F")] * 6 + [("None", None)] * 4
    assert not {r["name"] for r in rows} & {r["name"] for r in first + second}  # the rest treated as usual
    manifest = next(v for k, v in _objects(regions, "s3a://us-anonymised/profiles/").items() if "_manifest" in k)
    assert orjson.loads(manifest)["counts"]["k_suppressed"] == {"anonymised": 4}


def _decoded(objects: dict[str, bytes]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, data in objects.items():
        if key.endswith(".jsonl"):
            rows += [orjson.loads(line) for line in data.splitlines() if line]
        elif key.endswith(".csv"):
            import csv

            rows += list(csv.DictReader(io.StringIO(data.decode())))
        elif key.endswith(".parquet"):
            rows += pq.read_table(io.BytesIO(data)).to_pylist()
    return rows


def test_region_guard_refuses_raw_egress_and_accepts_it_after_an_exemption(
    regions: Regions, spark: Any, tmp_path: Path
) -> None:
    settings = _settings(regions, tmp_path)
    regions.store("s3a://eu-raw/guard/").write("m.txt", MEMOS[0].encode())
    keeps = dict(MEMO_POLICY, rules={**MEMO_POLICY["rules"], "text": {"treatment": "keep"}})
    domain = load_registry(settings).get("memo")
    with pytest.raises(RegionGuardError) as refused:
        run_batch(spark, settings, domain, Policy.from_document(keeps), "s3a://eu-raw/guard/",
                  "s3a://us-anonymised/guard/", pii=MEMO_TAGS)  # fmt: skip
    message = str(refused.value)
    assert "rules.text" in message and "region us" in message and "region eu" in message
    assert not _objects(regions, "s3a://us-anonymised/guard/")

    exemption = {"reason": "legal hold copy approved by the DPO", "by": "steward", "at": "2026-12-01T09:00:00+00:00"}
    exempted = dict(keeps, rules={**keeps["rules"], "text": {"treatment": "keep", "exemption": exemption}})
    report = run_batch(spark, settings, domain, Policy.from_document(exempted), "s3a://eu-raw/guard/",
                       "s3a://us-anonymised/guard/", pii=MEMO_TAGS)  # fmt: skip
    assert report.counts["rows_out"] == 1 and report.exempted == [
        "rules.text (text: legal hold copy approved by the DPO)"
    ]
    manifest = orjson.loads(_objects(regions, "s3a://us-anonymised/guard/", "_manifest.json").popitem()[1])
    assert manifest["exemptions"] == report.exempted


def test_cli_refuses_raw_egress_with_exit_2_naming_rule_and_regions(regions: Regions, tmp_path: Path) -> None:
    policy = tmp_path / "keep.json"
    policy.write_text(json.dumps(dict(MEMO_POLICY, rules={**MEMO_POLICY["rules"], "text": {"treatment": "keep"}})))
    env = deid_env(
        DEID_DATA_DIR=str(tmp_path / "deid"),
        DEID_CATALOG_URL="http://127.0.0.1:9",  # no catalog: tags unknown, every kept field counts as PII
        DEID_STORAGE_LOCATIONS=json.dumps(regions.locations()),
        DEID_S3_ACCESS_KEY=regions.access_key,
        DEID_S3_SECRET_KEY=regions.secret_key,
    )
    result = run_deid("batch", "run", "memo", "--input", "s3a://eu-raw/cli/", "--output", "s3a://us-anonymised/cli/",
                      "--policy-file", str(policy), env=env)  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("deid: error: region guard: rule rules.") and "region us" in line and "region eu" in line
    assert regions.secret_key not in result.stderr


def test_infer_from_a_bucket_prefix_gives_the_domain_a_schema_tags_and_a_draft(
    regions: Regions, spark: Any, tmp_path: Path
) -> None:
    settings = _settings(regions, tmp_path)
    raw = regions.store("s3a://eu-raw/infer/")
    rows = _click_rows(0, 60)
    raw.write("a.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in rows[:30]) + b"{not json\n")
    raw.write("b.csv", _csv(rows[30:]))
    domain = load_registry(settings).get("clickstream")

    def reader(session: Any, say: Any) -> Any:
        return infer_files(settings, domain, session, "s3a://eu-raw/infer/", sample=60, progress=say)

    outcome = run_inference(settings, domain, spark=spark, publish=False, progress=None, reader=reader)

    assert outcome.result.events == 61 and outcome.result.corrupt == 1
    names = {f["name"] for f in outcome.result.schema["fields"]}
    assert {"email", "user_id", "consent_level", "page_url"} <= names
    assert outcome.result.decisions["email"].entity == "EMAIL_ADDRESS"
    assert outcome.policy.rules["email"].treatment != "keep"  # type: ignore[union-attr]


def test_cli_run_records_regions_and_lineage_in_the_catalog(
    regions: Regions, sqlite_catalog: Any, tmp_path: Path
) -> None:
    policy = tmp_path / "memo.json"
    rules = {"memo_id": {"treatment": "mask"}, "text": {"treatment": "redact"}, "created_at": {"treatment": "drop"}}
    policy.write_text(json.dumps(dict(MEMO_POLICY, rules=rules)))
    regions.store("s3a://eu-raw/cli-ok/").write("a.txt", MEMOS[1].encode())
    env = deid_env(
        DEID_DATA_DIR=str(tmp_path / "deid"),
        DEID_MASTER_KEY=Fernet.generate_key().decode(),
        DEID_STORAGE_LOCATIONS=json.dumps(regions.locations()),
        DEID_S3_ACCESS_KEY=regions.access_key,
        DEID_S3_SECRET_KEY=regions.secret_key,
        DEID_SPARK_JARS_DIR=str(REPO / ".deid" / "spark-jars"),
        DEID_SPARK_MASTER="local[1]",
        DEID_REGION_OUT="us",
        **sqlite_catalog.env("steward"),
    )
    args = ["batch", "run", "memo", "--input", "s3a://eu-raw/cli-ok/", "--output", "s3a://us-anonymised/cli-ok/"]
    result = run_deid(*args, "--policy-file", str(policy), "--json", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["rows_out"] == 1 and counts["manifest"].endswith("/_manifest.json")
    again = run_deid(*args, "--policy-file", str(policy), env=env, timeout=300)
    assert again.returncode == 0 and "nothing new" in again.stdout

    client = sqlite_catalog.client()
    pipeline = client.find_entity("deid_pipeline", "deid-batch-memo@eu")
    assert pipeline is not None
    inputs = [ref["uniqueAttributes"]["qualifiedName"] for ref in pipeline["attributes"]["inputs"]]
    outputs = [ref["uniqueAttributes"]["qualifiedName"] for ref in pipeline["attributes"]["outputs"]]
    assert inputs == ["s3a://eu-raw/cli-ok/"] and outputs == ["s3a://us-anonymised/cli-ok/"]
    source = client.find_entity("deid_storage_location", "s3a://eu-raw/cli-ok/")
    target = client.find_entity("deid_storage_location", "s3a://us-anonymised/cli-ok/")
    assert (source["attributes"]["region"], source["attributes"]["side"]) == ("eu", "raw")  # type: ignore[index]
    assert (target["attributes"]["region"], target["attributes"]["side"]) == ("us", "anonymised")  # type: ignore[index]
    out_cluster = client.find_entity("deid_kafka_cluster", "eu-anonymised")
    assert out_cluster is not None and out_cluster["attributes"]["region"] == "us"


def test_stack_storage_starts_one_minio_per_region_endpoint_and_creates_the_buckets(tmp_path: Path) -> None:
    if not MINIO.is_file():
        pytest.skip("MinIO is not installed; run scripts/install-minio")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "minio").symlink_to(MINIO)
    eu, us = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    locations = [
        {"name": "eu-raw", "uri": "s3a://eu-raw/", "region": "eu", "side": "raw", "endpoint": eu},
        {"name": "us-anon", "uri": "s3a://us-anon/", "region": "us", "side": "anonymised", "endpoint": us},
    ]
    keys = {"s3_access_key": "deid-k", "s3_secret_key": "s3cret-key"}
    settings = Settings(data_dir=tmp_path, storage_locations=locations, **keys)  # type: ignore[arg-type]
    assert [s.name for s in services(settings)][:2] == ["kafka", "storage"]
    storage = EmbeddedStorage(settings)
    try:
        started = storage.start(60)
        assert "minio-eu" in started and "minio-us" in started
        assert storage.status()[0] is True
        S3Store(StoreSpec("s3a://us-anon/", us, "deid-k", "s3cret-key")).write("probe", b"x")  # bucket exists
        assert storage.start(60).count("running on") == 2  # a second start leaves them running
    finally:
        storage.stop()
    assert storage.status()[0] is False


def test_minio_starts_when_the_port_beside_its_api_port_is_taken(tmp_path: Path) -> None:
    """The console port is deid's choice: a socket already on API port + 1 (a client's, in the ephemeral
    range) must not stop the server."""
    import socket

    if not MINIO.is_file():
        pytest.skip("MinIO is not installed; run scripts/install-minio")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        while port_in_use("127.0.0.1", holder.getsockname()[1] - 1):  # an API port below the held one, free
            holder.close()
            holder = socket.socket()
            holder.bind(("127.0.0.1", 0))
            holder.listen()
        api_port = holder.getsockname()[1] - 1
        server = MinioServer(MINIO, tmp_path / "data", api_port, "deid-k", "s3cret-key", name="minio-beside")
        try:
            assert "running on" in server.start(60)  # answered its health check on the API port
            assert server.process.pid() is not None
        finally:
            server.stop()
