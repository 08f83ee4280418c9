"""The dated run layout, the run's `_manifest.json`, and what earlier runs already processed.

A run writes under `<output>/anonymised/<domain>/<YYYY-MM-DD>/<HHMMSS>/run-<id>/` and finishes by writing
`_manifest.json` there: the input files (key, size, etag, sha256, rows), counts in / out / quarantined,
purposes, the policy version. A file counts as processed once a manifest names it with the same etag: a run
that died before its manifest is simply done again (its orphan parts are never listed as processed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from batch.files import MAIN_OUTPUT
from batch.store import LocalStore, S3Store

MANIFEST = "_manifest.json"


def new_run(now: datetime) -> tuple[str, str]:
    """(run id, dated run folder `<date>/<time>/run-<id>`)."""
    run_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return run_id, f"{now:%Y-%m-%d}/{now:%H%M%S}/run-{run_id}"


def manifest_key(domain: str, run: str) -> str:
    return f"{MAIN_OUTPUT}/{domain}/{run}/{MANIFEST}"


def processed_files(output: S3Store | LocalStore, domain: str) -> dict[str, str]:
    """key → etag of every input file an earlier run's manifest lists."""
    done: dict[str, str] = {}
    for info in output.list(f"{MAIN_OUTPUT}/{domain}/"):
        if not info.key.endswith("/" + MANIFEST):
            continue
        manifest = orjson.loads(output.read(info.key))
        for entry in manifest.get("files", []):
            done[entry["key"]] = entry["etag"]
    return done


def encode(manifest: dict[str, Any]) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
