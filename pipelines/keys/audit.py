"""Key actions (erasure, rotation, re-wrap) audited in the catalog as the configured catalog user.

Order of events: `check()` before anything changes (catalog reachable, user is a steward or admin), so
an unreachable catalog or a viewer stops the action with nothing done; then the action; then `record()`.
Erasure also records its request before destroying keys (see `deid subject erase`), so a failure to
record the outcome still leaves the request in the audit. Details hold ids, counts and reasons only.
"""

from __future__ import annotations

import getpass
import socket
from typing import Any

from catalog.client import CatalogClient, CatalogError, CatalogUnavailable
from deid.errors import DeidError

ALLOWED_ROLES = ("steward", "admin")


class AuditUnavailableError(DeidError):
    """The catalog cannot audit the action, so it is not done (an unaudited erasure or rotation is not allowed)."""


class KeyAudit:
    def __init__(self, client: CatalogClient, what: str) -> None:
        self.client = client
        self.what = what
        """The action in messages ("erasure", "key rotation", …)."""
        self.user: str | None = None

    @classmethod
    def from_settings(cls, settings: Any, what: str) -> KeyAudit:
        # Few retries: a person is waiting, and nothing has changed yet when the catalog is down.
        return cls(CatalogClient.from_settings(settings, retries=2, timeout=15), what)

    def check(self) -> str:
        """The catalog user who will be recorded; AuditUnavailableError (nothing done yet) otherwise."""
        try:
            me = self.client.session_info()
        except CatalogUnavailable:
            raise AuditUnavailableError(
                f"the catalog at {self.client.url} is unreachable, so the {self.what} could not be audited; "
                "nothing was changed (start it with `deid stack up` or set DEID_CATALOG_URL)"
            ) from None
        except CatalogError as exc:
            raise AuditUnavailableError(
                f"the catalog refused the {self.what}'s audit ({exc}); nothing was changed "
                "(DEID_CATALOG_USER / DEID_CATALOG_PASSWORD name the catalog user)"
            ) from None
        roles = me.get("roles") or []
        if not set(roles) & set(ALLOWED_ROLES):
            raise AuditUnavailableError(
                f"catalog user {me.get('userName')!r} has role {', '.join(roles) or 'none'}; the {self.what} needs "
                "a steward or admin; nothing was changed"
            )
        self.user = str(me["userName"])
        return self.user

    def record(self, action: str, details: dict[str, Any]) -> dict[str, Any]:
        """Record `action` (CatalogError propagates: the caller says what was done and not recorded)."""
        body = {**details, "os_user": getpass.getuser(), "host": socket.gethostname()}
        return self.client.record_audit(action, details=body)

    def close(self) -> None:
        self.client.close()
