"""Catalog bulk writes at size: one authenticated POST /entity/bulk of N entities (avro schemas of 50
fields each, fields linked to their record the way inference writes them), at N = 1k, 10k, 100k.

Linearity is reported as ratios inside the run: seconds per 1,000 entities at each size, the time ratio
of each size to the previous over the entity ratio (1.0 = linear), and that excess per doubling (the
issue's yardstick: 2 x entities within 2.2 x time, i.e. at most 1.1). Wall and CPU time both: the
server runs in this process, and CPU time is the steadier figure on a shared machine. Beside the writes: the get of
one schema with its fields and a basic search, timed against the full catalog, and whether a small
write from another client got through while the big one ran.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.benchmarks.common import BenchContext, Stopwatch, print_table, progress
from tests.catalog_support import start_catalog

NAME = "catalog"
DESCRIPTION = "bulk create of 1k/10k/100k entities in one request (linearity per doubling), get/search at size"

FIELDS_PER_SCHEMA = 50
BULK = "/api/atlas/v2/entity/bulk"


def bulk_payload(count: int, tag: str) -> dict[str, Any]:
    """`count` entities: one avro_schema per 49 avro_fields, each field pointing at its record."""
    entities: list[dict[str, Any]] = []
    schemas = max(1, math.ceil(count / FIELDS_PER_SCHEMA))
    for s in range(schemas):
        schema_guid = f"-{s * FIELDS_PER_SCHEMA + 1}"
        name = f"{tag}.topic{s}-value"
        entities.append({
            "typeName": "avro_schema", "guid": schema_guid,
            "attributes": {"qualifiedName": f"{name}@bench", "name": name, "type": "record", "namespace": tag},
        })  # fmt: skip
        for f in range(1, FIELDS_PER_SCHEMA):
            if len(entities) >= count:
                break
            entities.append({
                "typeName": "avro_field", "guid": f"-{s * FIELDS_PER_SCHEMA + 1 + f}",
                "attributes": {"qualifiedName": f"{name}@bench.field{f}", "name": f"field{f}"},
                "relationshipAttributes": {"record": {"guid": schema_guid}},
            })  # fmt: skip
    return {"entities": entities[:count]}


def _median_ms(action: Any, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        with Stopwatch() as watch:
            action()
        samples.append(watch.seconds * 1000)
    return round(statistics.median(samples), 1)


def _small_writes_during(url: str, auth: tuple[str, str], stop: threading.Event, out: list[float]) -> None:
    """Another writer: one single-entity create per 0.5 s while the bulk runs (latency in seconds)."""
    session = requests.Session()
    session.auth = auth
    while not stop.is_set():
        entity = {"typeName": "avro_field", "attributes": {"qualifiedName": f"side-{uuid.uuid4().hex}@bench",
                                                           "name": "side"}}  # fmt: skip
        started = time.perf_counter()
        answer = session.post(f"{url}/api/atlas/v2/entity", json={"entity": entity}, timeout=600)
        if answer.status_code == 200:
            out.append(time.perf_counter() - started)
        stop.wait(0.5)


def measure_size(url: str, auth: tuple[str, str], count: int) -> dict[str, Any]:
    tag = f"b{uuid.uuid4().hex[:8]}"
    payload = bulk_payload(count, tag)
    http = requests.Session()
    http.auth = auth
    side: list[float] = []
    stop = threading.Event()
    other = threading.Thread(target=_small_writes_during, args=(url, auth, stop, side), daemon=True)
    other.start()
    progress(f"bulk create of {count:,} entities")
    body = json.dumps(payload).encode()
    cpu = time.process_time()  # the server runs in this process: CPU time is steadier than wall time here
    with Stopwatch() as watch:
        answer = http.post(f"{url}{BULK}", data=body, headers={"Content-Type": "application/json"}, timeout=3600)
    cpu = time.process_time() - cpu
    stop.set()
    other.join(timeout=600)
    if answer.status_code != 200:
        raise RuntimeError(f"bulk create of {count} failed: HTTP {answer.status_code} {answer.text[:300]}")
    created = answer.json()["mutatedEntities"].get("CREATE", [])
    schema_guid = next(h["guid"] for h in created if h["typeName"] == "avro_schema")
    get_ms = _median_ms(lambda: http.get(f"{url}/api/atlas/v2/entity/guid/{schema_guid}", timeout=600))
    search = {"typeName": "avro_schema", "query": f"{tag}.topic1-value", "limit": 10}
    search_ms = _median_ms(lambda: http.post(f"{url}/api/atlas/v2/search/basic", json=search, timeout=600))
    return {
        "entities": count,
        "created": len(created),
        "request_mb": round(len(body) / 2**20, 1),
        "seconds": round(watch.seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "seconds_per_1k": round(watch.seconds / count * 1000, 3),
        "get_schema_ms": get_ms,
        "basic_search_ms": search_ms,
        "side_writes_done": len(side),
        "side_write_max_s": round(max(side), 2) if side else None,
    }


def run(ctx: BenchContext) -> dict[str, object]:
    sizes = [200, 400] if ctx.quick else [ctx.count(n, n) for n in (1_000, 10_000, 100_000)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="deid-bench-catalog-") as data_dir:
        server = start_catalog(Path(data_dir))
        try:
            auth = server.credentials("admin")
            for count in sizes:
                rows.append(measure_size(server.url, auth, count))
        finally:
            server.stop()
    for previous, row in itertools.pairwise(rows):
        size_ratio = row["entities"] / previous["entities"]
        for key in ("seconds", "cpu_seconds"):
            excess = (row[key] / previous[key]) / size_ratio  # 1.0 = linear
            row[f"{key}_ratio_over_size_ratio"] = round(excess, 2)
            # The yardstick: 2 x entities may take at most 2.2 x time, i.e. at most 1.1 per doubling.
            row[f"{key}_excess_per_doubling"] = round(excess ** (1 / math.log2(size_ratio)), 3)
    print_table(
        ["entities", "MB", "seconds", "cpu s", "s/1k", "wall x/doubling", "cpu x/doubling", "get ms", "search ms",
         "side writes", "side max s"],
        [[r["entities"], r["request_mb"], r["seconds"], r["cpu_seconds"], r["seconds_per_1k"],
          r.get("seconds_excess_per_doubling"), r.get("cpu_seconds_excess_per_doubling"), r["get_schema_ms"],
          r["basic_search_ms"], r["side_writes_done"], r["side_write_max_s"]] for r in rows],
    )  # fmt: skip
    return {"backend": "sqlite", "fields_per_schema": FIELDS_PER_SCHEMA, "sizes": rows}
