"""Catalog users and roles: viewer (read), steward (classify, edit entities and policies), admin
(typedefs, users). Passwords are stored hashed; every change is audited (never the password).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from catalog.server.errors import AtlasError, Code
from catalog.server.login_guard import LoginGuard
from catalog.server.passwords import DUMMY_HASH, generate_password, hash_password, verify_password
from catalog.store.db import Store
from catalog.store.repository import AuditRepo, UserRepo
from deid.errors import ConfigError
from deid.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["viewer", "steward", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "steward", "admin")
ROLE_LEVEL = {role: level for level, role in enumerate(ROLES)}
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
MIN_PASSWORD = 8
ADMIN = "admin"
SYSTEM_USER = "deid-system"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return ROLE_LEVEL[self.role] >= ROLE_LEVEL[role]


@dataclass(frozen=True)
class InitialAdmin:
    """What the first start did about the admin user (for the CLI to tell the operator)."""

    created: bool
    password_file: Path | None


def check_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise AtlasError(Code.INVALID_PARAMETERS, "a user name is 1-128 letters, digits, '.', '_', '@' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AtlasError(Code.INVALID_PARAMETERS, f"a password needs at least {MIN_PASSWORD} characters")
    return password


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Verified (user, password) digests -> the hash they matched, so Basic auth does not pay scrypt
        # on every request; a changed password hash invalidates the entry.
        self._verified: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pepper = secrets.token_bytes(16)
        self.guard = LoginGuard()

    def login(self, name: str, password: str, address: str, channel: str) -> Principal | None:
        """`authenticate` behind the failed-login guard: 429 (Retry-After) while the user or the client
        address must wait, None for wrong credentials (counted and audited), else the principal."""
        blocked = self.guard.check(name, address)
        if blocked is not None:
            what = "locked after repeated failed logins" if blocked.locked else "failed logins: wait before retrying"
            raise AtlasError(
                Code.TOO_MANY_REQUESTS,
                f"this {blocked.scope} is {what}; retry in {blocked.retry_after} s",
                headers={"Retry-After": str(blocked.retry_after)},
            )
        principal = self.authenticate(name, password)
        if principal is not None:
            self.guard.succeeded(name)
            return principal
        locked = self.guard.failed(name, address)

        def run(session) -> None:  # type: ignore[no-untyped-def]
            # A name that is no user is not recorded: people type their password into the name field.
            known = USER_NAME.match(name) is not None and UserRepo(session).get(name) is not None
            details = {"name": name if known else "(unknown user)", "client": address, "channel": channel}
            audit = AuditRepo(session)
            audit.record(name if known else "-", "LOGIN_FAILED", details=details)
            if locked:
                audit.record(SYSTEM_USER, "LOGIN_LOCKED", details=details)

        self.store.write(run)
        if locked:
            log.warning("catalog: repeated failed logins locked a user name or client address for a while")
        return None

    def authenticate(self, name: str, password: str) -> Principal | None:
        with self.store.read() as session:
            row = UserRepo(session).get(name)
            stored, role = (row.password_hash, row.role) if row else (None, None)
        digest = hashlib.sha256(self._pepper + name.encode() + b"\0" + password.encode()).hexdigest()
        if stored is not None and self._verified.get(digest) == stored:
            return Principal(name, role)  # type: ignore[arg-type]
        if not verify_password(password, stored or DUMMY_HASH) or stored is None:
            return None
        with self._lock:
            if len(self._verified) > 4096:
                self._verified.clear()
            self._verified[digest] = stored
        return Principal(name, role)  # type: ignore[arg-type]

    def list(self) -> list[dict[str, object]]:
        with self.store.read() as session:
            return [
                {"name": r.name, "role": r.role, "createTime": r.create_time, "updateTime": r.update_time}
                for r in UserRepo(session).all()
            ]

    def add(self, name: str, password: str, role: Role, actor: str) -> None:
        check_name(name)
        hashed = hash_password(check_password(password))

        def run(session) -> None:  # type: ignore[no-untyped-def]
            users = UserRepo(session)
            if users.get(name) is not None:
                raise AtlasError(Code.USER_ALREADY_EXISTS, name)
            users.add(name, hashed, role)
            AuditRepo(session).record(actor, "USER_ADD", details={"name": name, "role": role})

        self.store.write(run)

    def update(self, name: str, actor: str, *, password: str | None = None, role: Role | None = None) -> None:
        hashed = hash_password(check_password(password)) if password is not None else None

        def run(session) -> None:  # type: ignore[no-untyped-def]
            users = UserRepo(session)
            row = users.get(name)
            if row is None:
                raise AtlasError(Code.USER_NOT_FOUND, name)
            if role is not None and row.role == ADMIN and role != ADMIN and users.count_with_role(ADMIN) == 1:
                raise AtlasError(Code.INVALID_PARAMETERS, "the last admin cannot lose the admin role")
            users.update(name, password_hash=hashed, role=role)
            changes = {"name": name} | ({"role": role} if role else {}) | ({"password": "changed"} if hashed else {})
            AuditRepo(session).record(actor, "USER_UPDATE", details=changes)

        self.store.write(run)

    def remove(self, name: str, actor: str) -> None:
        def run(session) -> None:  # type: ignore[no-untyped-def]
            users = UserRepo(session)
            row = users.get(name)
            if row is None:
                raise AtlasError(Code.USER_NOT_FOUND, name)
            if row.role == ADMIN and users.count_with_role(ADMIN) == 1:
                raise AtlasError(Code.INVALID_PARAMETERS, "the last admin cannot be removed")
            users.delete(row)
            AuditRepo(session).record(actor, "USER_DELETE", details={"name": name})

        self.store.write(run)

    def ensure_initial_admin(self, settings: Settings) -> InitialAdmin:
        """First start: create `admin` (DEID_ADMIN_PASSWORD, or a generated one in embedded mode)."""
        with self.store.read() as session:
            if UserRepo(session).count_with_role(ADMIN):
                return InitialAdmin(False, None)
        if settings.admin_password is not None:
            self._add_if_missing(settings.admin_password.get_secret_value())
            return InitialAdmin(True, None)
        if settings.catalog_mode == "production":
            raise ConfigError(
                "the catalog has no admin user and production mode sets no default password: set "
                "DEID_ADMIN_PASSWORD for the first start, or run `deid catalog user add admin --role admin` "
                "(password on stdin) against the same DEID_CATALOG_DB"
            )
        password = generate_password()
        path = settings.admin_password_file
        if not self._add_if_missing(password):
            return InitialAdmin(False, None)
        write_secret_file(path, password)
        return InitialAdmin(True, path.resolve())

    def _add_if_missing(self, password: str) -> bool:
        hashed = hash_password(check_password(password))

        def run(session) -> bool:  # type: ignore[no-untyped-def]
            users = UserRepo(session)
            if users.get(ADMIN) is not None:
                return False
            users.add(ADMIN, hashed, ADMIN)
            AuditRepo(session).record(SYSTEM_USER, "USER_ADD", details={"name": ADMIN, "role": ADMIN})
            return True

        return self.store.write(run)


def write_secret_file(path: Path, secret: str) -> None:
    """Write `secret` to `path` readable by the owner only (created 0600, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.replace(temporary, path)
