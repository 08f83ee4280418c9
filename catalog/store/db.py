"""Engine, sessions and the transaction helper every write goes through.

Writes run in `Store.write(fn)`: one transaction, retried from the start when it loses a race
(a unique constraint hit by a concurrent upsert, SQLite busy, a PostgreSQL serialization failure or
deadlock). `fn` must therefore only touch the session and its own locals.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from deid.errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock.
_RETRY_SQLSTATES = {"40001", "40P01"}


class WriteConflict(Exception):
    """A write kept losing races (or hit a constraint) after every retry."""


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver deid installs), not psycopg2."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL for messages: password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        path = Path(database)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Owner-only: the file holds password hashes (SQLite gives -wal/-shm the same mode).
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions break IMMEDIATE and DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # cache_size: 64 MiB of pages (default 2 MiB); random-uuid keys touch pages all over large indexes.
        pragmas = (
            "journal_mode=WAL",
            "busy_timeout=30000",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            "cache_size=-65536",
        )
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: no deadlock upgrading a read lock mid-transaction.
        immediate = connection.get_execution_options().get("deid_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:
        raise ConfigError(f"DEID_CATALOG_DB: not a database URL ({type(exc).__name__})") from None
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    raise ConfigError(f"DEID_CATALOG_DB: unsupported database {backend!r}; use sqlite or postgresql")


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


class Store:
    """Sessions over one engine. Reads: `with store.read() as s`; writes: `store.write(fn)`."""

    def __init__(self, url: str, *, attempts: int = 6) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self.backend = self.engine.dialect.name
        self.attempts = attempts
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(self.engine.execution_options(deid_write=True), expire_on_commit=False)
        # SQLite has one writer at a time anyway; queueing in-process avoids busy-waiting on the file lock.
        self._local_writer = threading.Lock() if self.backend == "sqlite" else None

    @property
    def is_postgresql(self) -> bool:
        return self.backend == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session:
            yield session

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one transaction and commit; retry the whole of it on a lost race."""
        for attempt in range(1, self.attempts + 1):
            try:
                if self._local_writer is None:
                    return self._write_once(fn)
                with self._local_writer:
                    return self._write_once(fn)
            except DBAPIError as exc:
                if not _retryable(exc):
                    raise
                if attempt == self.attempts:
                    raise WriteConflict(type(exc).__name__) from exc
                log.debug("write attempt %d lost a race (%s); retrying", attempt, type(exc).__name__)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    def _write_once(self, fn: Callable[[Session], T]) -> T:
        with self._writes() as session, session.begin():
            return fn(session)

    def dispose(self) -> None:
        self.engine.dispose()


def now_ms() -> int:
    return int(time.time() * 1000)
