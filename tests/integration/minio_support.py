"""Real MinIO servers for the batch tests: one per region (eu raw, us anonymised) on free loopback ports,
built by scripts/install-minio. Settings that place their buckets in the region model."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from batch.store import S3Store, StoreSpec
from deid.settings import Settings
from deid.stack.process import free_port
from deid.stack.storage import MinioServer
from tests.conftest import REPO

MINIO = REPO / ".deid" / "bin" / "minio"
BUCKETS = {"eu": ("eu-raw", "raw"), "us": ("us-anonymised", "anonymised")}


@dataclass
class Regions:
    eu: MinioServer
    us: MinioServer
    access_key: str
    secret_key: str

    def locations(self) -> list[dict[str, str]]:
        return [
            {"name": "eu-raw", "uri": "s3a://eu-raw/", "region": "eu", "side": "raw", "endpoint": self.eu.endpoint},
            {"name": "eu-anonymised", "uri": "s3a://eu-anonymised/", "region": "eu", "side": "anonymised",
             "endpoint": self.eu.endpoint},
            {"name": "us-raw", "uri": "s3a://us-raw/", "region": "us", "side": "raw", "endpoint": self.us.endpoint},
            {"name": "us-anonymised", "uri": "s3a://us-anonymised/", "region": "us", "side": "anonymised",
             "endpoint": self.us.endpoint},
        ]  # fmt: skip

    def settings(self, data_dir: Path, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": data_dir,
            "storage_locations": self.locations(),
            "s3_access_key": self.access_key,
            "s3_secret_key": self.secret_key,
            "spark_jars_dir": REPO / ".deid" / "spark-jars",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def store(self, uri: str) -> S3Store:
        endpoint = self.eu.endpoint if uri.split("://")[1].startswith(("eu-",)) else self.us.endpoint
        return S3Store(StoreSpec(uri, endpoint, self.access_key, self.secret_key))


def minio_regions(base: Path) -> Iterator[Regions]:
    if not MINIO.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"MinIO is not installed at {MINIO}; scripts/install-minio (called by setup_all) builds it")
        pytest.skip(f"MinIO is not installed at {MINIO}; run scripts/install-minio")
    access, secret = "deid-test", secrets.token_urlsafe(24)
    servers = {
        region: MinioServer(
            MINIO, base / region / "data", free_port(), access, secret, name=f"minio-{region}", console_port=free_port()
        )
        for region in BUCKETS
    }
    started: list[MinioServer] = []
    try:
        for server in servers.values():
            server.start(timeout=60)
            started.append(server)
        regions = Regions(servers["eu"], servers["us"], access, secret)
        for location in regions.locations():
            regions.store(location["uri"]).ensure_bucket()
        yield regions
    finally:
        for server in started:
            server.stop()
