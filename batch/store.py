"""Where batch files live: an S3-compatible bucket (boto3, path-style: MinIO, any S3) or a local folder.

`StoreSpec` is the picklable description a Spark task gets (URI, endpoint, credentials); `open_store` makes
the client inside the task. Keys are relative to the spec's prefix. Credentials never appear in a repr.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deid.errors import ConfigError, DeidError


class StoreError(DeidError):
    """A bucket or folder cannot be listed, read or written; the message names the URI (never a key's secret)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the store's prefix
    size: int
    etag: str  # the server's entity tag, or size+mtime for a local file: what makes a file "the same"


@dataclass(frozen=True)
class StoreSpec:
    uri: str
    endpoint: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith(("s3a://", "s3://"))

    def child(self, relative: str) -> StoreSpec:
        """The same store rooted at `relative` below this prefix."""
        return StoreSpec(join(self.uri, relative), self.endpoint, self.access_key, self.secret_key)


def join(uri: str, relative: str) -> str:
    return uri.rstrip("/") + "/" + relative.strip("/") + "/"


class Store(Protocol):
    spec: StoreSpec

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def exists(self, key: str) -> bool: ...


def split_s3(uri: str) -> tuple[str, str]:
    rest = uri.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/") + "/" if prefix.strip("/") else ""


class S3Store:
    def __init__(self, spec: StoreSpec) -> None:
        import boto3
        from botocore.config import Config

        if not spec.endpoint:
            raise ConfigError(
                f"{spec.uri}: no S3 endpoint; add the location to DEID_STORAGE_LOCATIONS with its 'endpoint'"
            )
        self.spec = spec
        self.bucket, self.prefix = split_s3(spec.uri)
        self._client = boto3.client(
            "s3",
            endpoint_url=spec.endpoint,
            aws_access_key_id=spec.access_key,
            aws_secret_access_key=spec.secret_key,
            region_name="us-east-1",  # MinIO's default signing region; the deid region is a catalog label
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}, signature_version="s3v4"),
        )

    def _fail(self, what: str, exc: Exception) -> StoreError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
        return StoreError(f"cannot {what} {self.spec.uri} at {self.spec.endpoint}: {code or type(exc).__name__}")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    yield ObjectInfo(key, int(item["Size"]), str(item["ETag"]).strip('"'))
        except Exception as exc:  # botocore raises many kinds; each names the bucket through _fail
            raise self._fail("list", exc) from None

    def read(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()  # type: ignore[no-any-return]
        except Exception as exc:
            raise self._fail(f"read {key} in", exc) from None

    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type)
        except Exception as exc:
            raise self._fail(f"write {key} to", exc) from None

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            return True
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise self._fail(f"check {key} in", exc) from None

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (the embedded stack and tests; production buckets exist)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except Exception:
            try:
                self._client.create_bucket(Bucket=self.bucket)
            except Exception as exc:
                raise self._fail("create the bucket of", exc) from None


class LocalStore:
    def __init__(self, spec: StoreSpec) -> None:
        self.spec = spec
        self.root = Path(spec.uri.removeprefix("file://"))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.exists():
            return
        if not self.root.is_dir():
            raise StoreError(f"{self.root} is not a folder")
        for dirpath, _dirs, files in os.walk(self.root):
            for name in sorted(files):
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    stat = path.stat()
                    yield ObjectInfo(key, stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}")

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read {self.root / key}: {exc.strerror}") from None

    def write(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half a file
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return (self.root / key).exists()

    def ensure_bucket(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)


def open_store(spec: StoreSpec) -> S3Store | LocalStore:
    return S3Store(spec) if spec.is_s3 else LocalStore(spec)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe(spec: StoreSpec) -> dict[str, Any]:
    return {"uri": spec.uri, "endpoint": spec.endpoint}
