"""Plan.apply and Avro encoding on channel events: how much the treatments cost per record.

keep-all plan (every field kept: the floor of the per-record path) vs the channel policy (user_id
encrypt, date date_shift) with a shared key and with per-subject keys; the Avro encode of the
treated records; JSON decode of the raw lines for scale; Fernet.encrypt vs deid's FastFernet.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.policy import Policy
from deid.settings import Settings
from pipelines.avro import ConfluentAvroEncoder, anonymised_schema
from pipelines.keys import LocalKeystore
from pipelines.plan import compile_policy
from pipelines.transforms.fastcrypto import FastFernet
from tests.benchmarks.common import BenchContext, Stopwatch, peak_rss_mb, print_table, progress

NAME = "transforms"
DESCRIPTION = "records/s of Plan.apply (keep-all vs channel policy) and of the Avro encode"

CHANNEL_RULES = {
    "channel_name": {"treatment": "keep"},
    "tv_show": {"treatment": "keep"},
    "tv_show_type": {"treatment": "keep"},
    "date": {"treatment": "date_shift", "params": {"max_days": 30}},
    "user_id": {"treatment": "encrypt"},
}
SHOWS = [("Barry", "Comedy"), ("Andi Mack", "Family"), ("9-1-1", "Drama"), ("Ted Lasso", "Comedy"), ("Dark", "Sci-Fi")]


def channel_events(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        show, kind = rng.choice(SHOWS)
        event = {
            "channel_name": rng.choice(["Fox", "HBO", "Disney", "Netflix"]),
            "tv_show": show,
            "tv_show_type": kind,
            "date": f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-{rng.randint(2019, 2024)}",
            "user_id": f"user-{rng.randint(0, 19_999):05d}",
        }
        events.append(json.dumps(event).encode())
    return events


def rate(count: int, action: Callable[[], Any]) -> float:
    with Stopwatch() as watch:
        action()
    return round(count / watch.seconds, 1)


def run(ctx: BenchContext) -> dict[str, object]:
    count = ctx.count(200_000, 500)
    domain = load_registry().get("channel")
    raw = channel_events(count)
    records = [json.loads(line) for line in raw]
    with tempfile.TemporaryDirectory(prefix="deid-bench-keys-") as data_dir:
        keystore = LocalKeystore.open(Settings(data_dir=Path(data_dir), master_key=Fernet.generate_key().decode()))
        keep_all = Policy(
            domain="channel", version=1, status="published", rules={f: {"treatment": "keep"} for f in domain.fields}
        )
        channel = Policy(domain="channel", version=1, status="published", rules=CHANNEL_RULES)
        per_subject = Policy(
            domain="channel",
            version=1,
            status="published",
            rules={**CHANNEL_RULES, "user_id": {"treatment": "encrypt", "params": {"key_scope": "subject"}}},
        )
        plans = {
            name: compile_policy(p, domain, keystore)
            for name, p in [("keep", keep_all), ("deid", channel), ("subject", per_subject)]
        }
        progress(f"{count:,} channel events")
        json_rps = rate(count, lambda: [json.loads(line) for line in raw])
        keep_rps = rate(count, lambda: [plans["keep"].apply(r) for r in records])
        deid_rps = rate(count, lambda: [plans["deid"].apply(r) for r in records])
        # First use creates each subject's key (one committed keystore write each): measured on a slice;
        # then the same subjects again and again, their keys cached in the worker.
        cold = records[: ctx.count(1_000, 100)]
        subject_cold_rps = rate(len(cold), lambda: [plans["subject"].apply(r) for r in cold])
        warm = (cold * (count // len(cold) + 1))[:count]
        subject_rps = rate(count, lambda: [plans["subject"].apply(r) for r in warm])
        treated = [plans["deid"].apply(r) for r in records]
        encoder = ConfluentAvroEncoder(anonymised_schema(domain, channel), schema_id=1)
        avro_rps = rate(count, lambda: [encoder.encode(r) for r in treated])
        keystore.close()
    key = Fernet.generate_key()
    fernet, fast = Fernet(key), FastFernet(key)
    values = [r["user_id"].encode() for r in records[: min(count, 50_000)]]
    fernet_rps = rate(len(values), lambda: [fernet.encrypt(v) for v in values])
    fast_fernet_rps = rate(len(values), lambda: [fast.encrypt(v) for v in values])
    result: dict[str, object] = {
        "events": count,
        "json_decode_rps": json_rps,
        "keep_all_apply_rps": keep_rps,
        "channel_policy_apply_rps": deid_rps,
        "channel_subject_keys_apply_rps": subject_rps,
        "channel_subject_keys_first_use_rps": subject_cold_rps,
        "avro_encode_rps": avro_rps,
        "fernet_encrypt_rps": fernet_rps,
        "fast_fernet_encrypt_rps": fast_fernet_rps,
        # Per-record cost of the whole JSON-decode + apply + encode path, treatments vs none.
        "deid_vs_keep_path_ratio": round(
            (1 / json_rps + 1 / keep_rps + 1 / avro_rps) / (1 / json_rps + 1 / deid_rps + 1 / avro_rps), 3
        ),
        "peak_rss_mb": peak_rss_mb(),
    }
    print_table(
        ["measure", "records/s"],
        [
            ("json.loads (raw line)", json_rps),
            ("Plan.apply keep-all", keep_rps),
            ("Plan.apply channel policy", deid_rps),
            ("Plan.apply per-subject keys (cached)", subject_rps),
            ("Plan.apply per-subject keys (first use)", subject_cold_rps),
            ("Avro encode (Confluent framing)", avro_rps),
            ("Fernet.encrypt", fernet_rps),
            ("FastFernet.encrypt", fast_fernet_rps),
        ],
    )
    print(f"decode+apply+encode, channel policy vs keep-all: {result['deid_vs_keep_path_ratio']}")
    return result
