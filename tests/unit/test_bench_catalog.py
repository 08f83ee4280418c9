"""The catalog benchmark still runs (quick sizes) and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import bench_catalog
from tests.benchmarks.common import BenchContext, write_result


def test_bench_catalog_quick(tmp_path: Path) -> None:
    ctx = BenchContext(out_dir=tmp_path, quick=True)
    path = write_result(ctx, bench_catalog.NAME, bench_catalog.run(ctx))
    written = json.loads(path.read_text())
    small, large = written["sizes"]
    assert (small["entities"], large["entities"]) == (200, 400)
    assert small["created"] == 200 and large["created"] == 400
    assert large["seconds_excess_per_doubling"] > 0 and large["cpu_seconds_excess_per_doubling"] > 0
    assert small["get_schema_ms"] > 0 and small["basic_search_ms"] > 0


def test_bulk_payload_links_fields_to_their_schema() -> None:
    entities = bench_catalog.bulk_payload(120, "t")["entities"]
    assert len(entities) == 120
    schemas = {e["guid"] for e in entities if e["typeName"] == "avro_schema"}
    fields = [e for e in entities if e["typeName"] == "avro_field"]
    assert len(schemas) == 3 and all(f["relationshipAttributes"]["record"]["guid"] in schemas for f in fields)
    assert len({e["attributes"]["qualifiedName"] for e in entities}) == 120
