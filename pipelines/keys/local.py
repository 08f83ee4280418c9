"""LocalKeystore: data keys in a SQL table, each wrapped (Fernet) by the master key.

Default: SQLite at `<data_dir>/keys/keystore.db` (directory 700, file 600). Any SQLAlchemy URL works
(PostgreSQL for several hosts). Concurrency: a key is one row keyed by (name, generation); creators
race on that unique key and every loser re-reads the winner, so two workers creating the same
subject's key end with one key. Erasure deletes the wrapped material and keeps a tombstone, so a
later look-up says "erased" rather than "unknown"; then it scrubs what the database keeps of deleted
bytes (SQLite: `secure_delete` zeroes freed space and a WAL checkpoint overwrites the old pages;
PostgreSQL: VACUUM of the table, which frees dead row versions but cannot reach WAL archives or backups).
`DEID_KEYSTORE_URL` names a PostgreSQL database (`postgresql+psycopg://…`) for keys shared by several hosts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError, OperationalError

from pipelines.keys.base import (
    DataKey,
    KeyErasedError,
    KeyInfo,
    KeyKind,
    KeyNotFoundError,
    Keystore,
    KeystoreError,
    utc_datetime,
)
from pipelines.keys.master import MasterKey, load_master_key
from pipelines.keys.rewrap import RewrapReport, rewrap_keys

log = logging.getLogger(__name__)

SUBJECT_INDEX_KEY = "keystore.subject_index"
_SUBJECT_PREFIX = "subject."
_IN_CHUNK = 500  # names per `IN (…)` query (well under every database's bound-parameter limit)
_BULK_ATTEMPTS = 5
_RETRYABLE_SQLSTATES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure

metadata = MetaData()
keys_table = Table(
    "deid_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("wrapped", LargeBinary, nullable=True),  # NULL once erased
    Column("master_fingerprint", String(32), nullable=False),
    Column("erased_at", Float, nullable=True),
    UniqueConstraint("name", "generation", name="uq_deid_keys_name_generation"),
)


def _new_material(kind: KeyKind) -> bytes:
    return Fernet.generate_key() if kind == "fernet" else secrets.token_bytes(32)


def _info_of(values: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        key_id=values["key_id"],
        name=values["name"],
        kind=values["kind"],
        generation=values["generation"],
        created=utc_datetime(values["created_at"]),
    )


def _info(row: Row[Any]) -> KeyInfo:
    return KeyInfo(
        key_id=row.key_id,
        name=row.name,
        kind=row.kind,
        generation=row.generation,
        created=utc_datetime(row.created_at),
        erased=utc_datetime(row.erased_at) if row.erased_at is not None else None,
    )


class LocalKeystore(Keystore):
    def __init__(self, master: MasterKey, url: str) -> None:
        self._master = master
        self._engine = _engine(url)
        create_tables(metadata, self._engine)
        self._cache: dict[str, DataKey] = {}  # shared keys by id (immutable once written)
        self._lock = threading.Lock()
        self._subject_index: bytes | None = None

    @classmethod
    def open(cls, settings: Any, master: MasterKey | None = None) -> LocalKeystore:
        """The keystore of these settings (DEID_KEYSTORE_URL, else SQLite under `<data_dir>/keys/`).

        `master` defaults to the settings' master key (`deid keys rewrap` adds the old one to it).
        """
        master = master or load_master_key(settings)
        url = getattr(settings, "keystore_url", None)
        if url:
            return cls(master, normalise_url(url))
        directory = Path(settings.data_dir) / "keys"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        path = directory / "keystore.db"
        if not path.exists():
            path.touch(mode=0o600)
        return cls(master, f"sqlite:///{path}")

    def __repr__(self) -> str:
        return f"LocalKeystore(url={self._engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The keystore's database, for state kept beside the keys (the subject consent ledger)."""
        return self._engine

    # --- shared keys ---

    def ensure(self, name: str, kind: KeyKind) -> KeyInfo:
        return _info(self._ensure_row(name, kind))

    def _ensure_row(self, name: str, kind: KeyKind, prefix: str = "k") -> Row[Any]:
        # Current key and next generation come from ONE read: a writer who saw no key inserts the
        # generation after what it saw, so if someone else got there first the insert conflicts and
        # the loop returns theirs (reading them separately let two writers each create a key).
        while True:
            current, newest = self._state(name)
            if current is not None:
                return current
            self._insert(name, kind, newest + 1, prefix)

    def rotate(self, name: str) -> KeyInfo:
        if name == SUBJECT_INDEX_KEY or name.startswith(_SUBJECT_PREFIX):
            # The index names every subject's keys: a new one would orphan them (and hide them from erasure).
            raise KeystoreError(f"{name!r} cannot be rotated; per-subject keys are replaced by erasing them")
        row = self._current_row(name)
        if row is None:
            raise KeyNotFoundError(f"no key named {name!r} to rotate; run `deid keys init`")
        while True:
            generation = self._state(name)[1] + 1
            if self._insert(name, row.kind, generation):
                return _info(self._row_by_generation(name, generation))

    def current(self, name: str) -> DataKey:
        row = self._current_row(name)
        if row is None:
            raise KeyNotFoundError(f"no key named {name!r}; run `deid keys init` (it creates the keys policies use)")
        return self._unwrap(row)

    def by_id(self, key_id: str) -> DataKey:
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            row = conn.execute(select(keys_table).where(keys_table.c.key_id == key_id)).first()
        if row is None:
            raise KeyNotFoundError(f"unknown key id {key_id!r}")
        if row.erased_at is not None:
            raise KeyErasedError(f"key {key_id!r} was erased: what it protected cannot be read any more")
        return self._unwrap(row)

    def keys_named(self, name: str) -> list[DataKey]:
        query = (
            select(keys_table)
            .where(keys_table.c.name == name, keys_table.c.erased_at.is_(None))
            .order_by(keys_table.c.generation.desc())
        )
        with self._engine.connect() as conn:
            return [self._unwrap(row) for row in conn.execute(query)]

    def list_keys(self, include_subject_keys: bool = False) -> list[KeyInfo]:
        query = select(keys_table).order_by(keys_table.c.name, keys_table.c.generation)
        if not include_subject_keys:
            query = query.where(~keys_table.c.name.startswith(_SUBJECT_PREFIX))
        with self._engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def subject_key_counts(self) -> tuple[int, int]:
        """(active, erased) per-subject keys."""
        query = select(keys_table.c.erased_at).where(keys_table.c.name.startswith(_SUBJECT_PREFIX))
        with self._engine.connect() as conn:
            erased = [row.erased_at is not None for row in conn.execute(query)]
        return erased.count(False), erased.count(True)

    # --- per-subject keys ---

    def subject_key(self, scope: str, subject: str) -> DataKey:
        return self._unwrap(self._ensure_row(self._subject_name(scope, subject), "fernet", prefix="s"), cache=False)

    def subject_keys(self, scope: str, subjects: Collection[str]) -> dict[str, DataKey]:
        """Existing keys read in one query per 500 subjects; all missing ones inserted in ONE transaction.

        A conflicting insert (another worker created one of them meanwhile) rolls the whole batch back and
        the loop reads again, so concurrent creators still end with one key per subject.
        """
        by_name = {self._subject_name(scope, subject): subject for subject in set(subjects)}
        found: dict[str, DataKey] = {}
        for _ in range(_BULK_ATTEMPTS):
            newest: dict[str, int] = {}
            for row in self._rows_named(list(by_name)):
                newest[row.name] = max(newest.get(row.name, 0), row.generation)
                if row.erased_at is None and row.name in by_name:
                    current = found.get(by_name[row.name])
                    if current is None or current.info.generation < row.generation:
                        found[by_name[row.name]] = self._unwrap(row, cache=False)
            # Sorted: concurrent creators insert overlapping names in one order, so one waits for the other
            # instead of each holding a name the other needs (a deadlock on PostgreSQL).
            missing = sorted(name for name, subject in by_name.items() if subject not in found)
            if not missing:
                return found
            created = [self._new_row(name, "fernet", newest.get(name, 0) + 1, "s") for name in missing]
            try:
                with self._engine.begin() as conn:
                    conn.execute(keys_table.insert(), [values for values, _ in created])
            except IntegrityError:
                continue  # someone else created some of them: read again
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES:
                    raise
                continue
            for (values, material), name in zip(created, missing, strict=True):
                found[by_name[name]] = DataKey(_info_of(values), material)
            return found
        for subject in by_name.values():  # still racing after several rounds: one by one
            if subject not in found:
                found[subject] = self.subject_key(scope, subject)
        return found

    def erase_subject(self, scope: str, subject: str, scrub: bool = True) -> list[str]:
        name = self._subject_name(scope, subject)
        with self._engine.begin() as conn:
            ids = [
                r.key_id
                for r in conn.execute(
                    select(keys_table.c.key_id).where(keys_table.c.name == name, keys_table.c.erased_at.is_(None))
                )
            ]
            conn.execute(
                update(keys_table)
                .where(keys_table.c.name == name, keys_table.c.erased_at.is_(None))
                .values(wrapped=None, erased_at=time.time())
            )
        if ids and scrub:
            self.scrub()
        return ids

    def rewrap(self) -> RewrapReport:
        """Wrap every key under the current master key (see `pipelines.keys.rewrap`)."""
        return rewrap_keys(self._engine, keys_table, self._master)

    def subject_ref(self, scope: str, subject: str) -> str:
        """The keyed hash naming this subject's keys in `scope`: shows in audits instead of the subject id."""
        return self._subject_name(scope, subject).rpartition(".")[2]

    def subject_scopes(self) -> list[str]:
        """Every scope (domain) that holds per-subject keys, active or erased."""
        # name = "subject." + scope + "." + 32 hex characters of ref
        scope = func.substr(keys_table.c.name, len(_SUBJECT_PREFIX) + 1, func.length(keys_table.c.name) - 41)
        query = select(scope.label("scope")).where(keys_table.c.name.startswith(_SUBJECT_PREFIX)).distinct()
        with self._engine.connect() as conn:
            return sorted(row.scope for row in conn.execute(query))

    def subject_key_infos(self, scope: str, subject: str) -> list[KeyInfo]:
        """Every key this subject ever had in `scope` (erased ones too), oldest first; never creates one."""
        query = (
            select(keys_table)
            .where(keys_table.c.name == self._subject_name(scope, subject))
            .order_by(keys_table.c.generation)
        )
        with self._engine.connect() as conn:
            return [_info(row) for row in conn.execute(query)]

    def scrub(self) -> bool:
        """Make the database drop the bytes of erased keys from its files; False if it could not finish."""
        try:
            if self._engine.dialect.name == "sqlite":
                with self._engine.connect() as conn:
                    busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
                return busy is None or busy[0] == 0
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM {keys_table.name}"))
            return True
        except Exception as exc:  # the keys are erased already; scrubbing is defence in depth
            log.warning("keystore: erased keys, but could not scrub the database files (%s)", type(exc).__name__)
            return False

    def _subject_name(self, scope: str, subject: str) -> str:
        if self._subject_index is None:
            self.ensure(SUBJECT_INDEX_KEY, "secret")
            self._subject_index = self.current(SUBJECT_INDEX_KEY).material
        ref = hmac.new(self._subject_index, f"{scope}\x00{subject}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{_SUBJECT_PREFIX}{scope}.{ref}"

    # --- rows ---

    def _current_row(self, name: str) -> Row[Any] | None:
        query = (
            select(keys_table)
            .where(keys_table.c.name == name, keys_table.c.erased_at.is_(None))
            .order_by(keys_table.c.generation.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            return conn.execute(query).first()

    def _row_by_generation(self, name: str, generation: int) -> Row[Any]:
        query = select(keys_table).where(keys_table.c.name == name, keys_table.c.generation == generation)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        assert row is not None
        return row

    def _state(self, name: str) -> tuple[Row[Any] | None, int]:
        """(current active row or None, highest generation ever used) from a single read."""
        query = select(keys_table).where(keys_table.c.name == name).order_by(keys_table.c.generation.desc())
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        current = next((row for row in rows if row.erased_at is None), None)
        return current, rows[0].generation if rows else 0

    def _rows_named(self, names: list[str]) -> list[Row[Any]]:
        rows: list[Row[Any]] = []
        with self._engine.connect() as conn:
            for start in range(0, len(names), _IN_CHUNK):
                chunk = names[start : start + _IN_CHUNK]
                rows.extend(conn.execute(select(keys_table).where(keys_table.c.name.in_(chunk))))
        return rows

    def _new_row(self, name: str, kind: KeyKind, generation: int, prefix: str) -> tuple[dict[str, Any], bytes]:
        """The column values of a new key, and its material (so a creator need not unwrap what it wrapped)."""
        material = _new_material(kind)
        values = {
            "key_id": prefix + secrets.token_hex(10),
            "name": name,
            "generation": generation,
            "kind": kind,
            "created_at": time.time(),
            "wrapped": self._master.wrap(material),
            "master_fingerprint": self._master.fingerprint,
            "erased_at": None,
        }
        return values, material

    def _insert(self, name: str, kind: KeyKind, generation: int, prefix: str = "k") -> bool:
        """Insert a new key; False when another writer took this generation first."""
        values, _ = self._new_row(name, kind, generation, prefix)
        try:
            with self._engine.begin() as conn:
                conn.execute(keys_table.insert().values(**values))
        except IntegrityError:
            return False
        return True

    def _unwrap(self, row: Row[Any], cache: bool = True) -> DataKey:
        cached = self._cache.get(row.key_id)
        if cached is not None:
            return cached
        if row.wrapped is None:
            raise KeyErasedError(f"key {row.key_id!r} was erased")
        try:
            material = self._master.unwrap(row.wrapped)
        except InvalidToken:
            raise KeystoreError(
                f"cannot unwrap key {row.key_id!r} ({row.name}): it was wrapped by master key "
                f"{row.master_fingerprint}, but {self._master.source} holds {', '.join(self._master.fingerprints)}"
            ) from None
        key = DataKey(_info(row), material)
        if cache and not row.name.startswith(_SUBJECT_PREFIX):
            with self._lock:
                self._cache[row.key_id] = key
        return key


SCHEMA_LOCK = 0x6465_6964  # "deid": the advisory lock that serialises creating the keystore's tables


def create_tables(tables: MetaData, engine: Engine) -> None:
    """Create missing tables. On PostgreSQL under an advisory lock: workers starting at once on a new database
    would otherwise race in CREATE TABLE (a duplicate in pg_type fails all but one)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        tables.create_all(connection)


def _engine(url: str) -> Engine:
    # hide_parameters: a failed statement's message must not carry wrapped keys (nor anything else bound).
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (several workers)
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")  # erased keys' bytes are zeroed, not left in free pages
        cursor.close()

    return engine


def normalise_url(url: str) -> str:
    """`postgresql://…` means the psycopg (3) driver deid ships with, not SQLAlchemy's psycopg2 default."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url
