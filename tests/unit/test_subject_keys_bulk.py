"""Per-subject keys a batch at a time: one keystore transaction for all new subjects, a bounded worker
cache that expires (so an erasure takes effect), and concurrent workers still ending with one key each."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import event

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.keys import LocalKeystore
from pipelines.keys.local import SUBJECT_INDEX_KEY
from pipelines.plan import compile_policy
from pipelines.transforms import TokenDecryptor, split_envelope
from pipelines.transforms.encrypt import SubjectKeyCache


def open_store(tmp_path: Path, master: str | None = None) -> LocalKeystore:
    return LocalKeystore.open(Settings(data_dir=tmp_path, master_key=master or Fernet.generate_key().decode()))


def count_commits(keystore: LocalKeystore) -> list[int]:
    commits = [0]

    def on_commit(_conn: Any) -> None:
        commits[0] += 1

    event.listen(keystore._engine, "commit", on_commit)
    return commits


def test_new_subjects_of_a_batch_are_created_in_one_transaction(tmp_path: Path) -> None:
    keystore = open_store(tmp_path)
    keystore.ensure(SUBJECT_INDEX_KEY, "secret")
    existing = keystore.subject_key("clickstream", "user-0")
    commits = count_commits(keystore)
    subjects = [f"user-{n}" for n in range(700)]  # more than one IN (…) chunk
    keys = keystore.subject_keys("clickstream", subjects)
    assert commits[0] == 1
    assert set(keys) == set(subjects) and keys["user-0"].key_id == existing.key_id
    assert len({k.key_id for k in keys.values()}) == 700
    assert all(keystore.subject_key("clickstream", s).key_id == keys[s].key_id for s in subjects[:20])
    assert keystore.subject_key_counts() == (700, 0)
    again = keystore.subject_keys("clickstream", subjects)
    assert commits[0] == 1 and {s: k.key_id for s, k in again.items()} == {s: k.key_id for s, k in keys.items()}
    # An erased subject gets a fresh key; the erased one stays erased.
    keystore.erase_subject("clickstream", "user-5")
    fresh = keystore.subject_keys("clickstream", ["user-5", "user-6"])
    assert fresh["user-5"].key_id != keys["user-5"].key_id and fresh["user-5"].info.generation == 2
    assert fresh["user-6"].key_id == keys["user-6"].key_id
    assert keystore.subject_key_counts() == (700, 1)
    keystore.close()


def _bulk_worker(data_dir: str, master: str, offset: int, barrier: Any, results: Any) -> None:
    keystore = LocalKeystore.open(Settings(data_dir=Path(data_dir), master_key=master))
    barrier.wait()  # every worker asks for overlapping new subjects at the same moment
    keys = keystore.subject_keys("clickstream", [f"user-{n}" for n in range(offset, offset + 150)])
    results.put({s: k.key_id for s, k in keys.items()})
    keystore.close()


def test_concurrent_bulk_creators_end_with_one_key_per_subject(tmp_path: Path) -> None:
    master = Fernet.generate_key().decode()
    open_store(tmp_path, master).ensure(SUBJECT_INDEX_KEY, "secret")
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_bulk_worker, args=(str(tmp_path), master, offset, barrier, results))
        for offset in (0, 50, 100, 0)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    agreed: dict[str, str] = {}
    for answer in answers:
        for subject, key_id in answer.items():
            assert agreed.setdefault(subject, key_id) == key_id  # every worker got the same key
    keystore = open_store(tmp_path, master)
    assert keystore.subject_key_counts() == (250, 0)
    keystore.close()


def test_subject_key_cache_primes_in_bulk_expires_and_stays_bounded(tmp_path: Path) -> None:
    keystore = open_store(tmp_path)
    now = [0.0]
    cache = SubjectKeyCache(keystore, "d", maxsize=100, ttl=60, clock=lambda: now[0])
    assert cache.prime([f"s{n}" for n in range(80)]) == 80
    assert cache.prime([f"s{n}" for n in range(90)]) == 10  # only the new ones
    prefix, encrypt = cache.get("s1")
    token = prefix + encrypt(b"value").decode()
    assert TokenDecryptor(keystore).decrypt(token) == "value"
    keystore.erase_subject("d", "s1")
    assert cache.get("s1")[0] == prefix  # still cached: the erasure takes effect after the ttl
    now[0] = 61.0
    assert cache.prime(["s1", "s2"]) == 2  # stale entries are fetched again
    assert cache.get("s1")[0] != prefix and split_envelope(cache.get("s1")[0] + "x")[0] != split_envelope(token)[0]
    cache.prime([f"t{n}" for n in range(50)])
    assert len(cache) == 100  # bounded: the oldest went
    keystore.close()


def test_plan_prefetches_the_keys_a_batch_needs(tmp_path: Path) -> None:
    keystore = open_store(tmp_path)
    domain = load_registry().get("channel")
    rules: dict[str, Any] = {f: {"treatment": "keep"} for f in domain.fields}
    shared = compile_policy(Policy(domain="channel", version=1, status="published", rules=rules), domain, keystore)
    rules["user_id"] = {"treatment": "encrypt", "params": {"key_scope": "subject"}}
    per_subject = compile_policy(Policy(domain="channel", version=1, status="published", rules=rules), domain, keystore)
    batch: list[Any] = [{"user_id": f"user-{n % 30}"} for n in range(100)] + ["not a record", {"user_id": None}]
    assert shared.prefetch_subject_keys(batch) == 0
    commits = count_commits(keystore)
    assert per_subject.prefetch_subject_keys(batch) == 30
    assert commits[0] == 2  # the subject index key once, then all 30 subjects' keys together
    assert per_subject.prefetch_subject_keys(batch) == 0
    out = per_subject.apply({"user_id": "user-3", "channel_name": "HBO"})
    assert out["user_id"].startswith("s") and TokenDecryptor(keystore).decrypt(out["user_id"]) == "user-3"
    assert commits[0] == 2  # served from the primed cache
    keystore.close()
