"""Who deid's jobs and tools are towards the catalog (and the Schema Registry it serves)."""

from __future__ import annotations

from deid.errors import ConfigError
from deid.settings import Settings

DEFAULT_CATALOG_USER = "admin"


def catalog_credentials(settings: Settings) -> tuple[str, str]:
    """DEID_CATALOG_USER / DEID_CATALOG_PASSWORD, else the embedded admin and its password file."""
    user = settings.catalog_user or DEFAULT_CATALOG_USER
    if settings.catalog_password is not None:
        return user, settings.catalog_password.get_secret_value()
    path = settings.admin_password_file
    if user == DEFAULT_CATALOG_USER and path.is_file():
        return user, path.read_text(encoding="utf-8").strip()
    hint = (
        f" (the embedded catalog's first start writes admin's password to {path}; "
        "`deid catalog user passwd admin` sets a new one there)"
        if user == DEFAULT_CATALOG_USER
        else ""
    )
    raise ConfigError(f"DEID_CATALOG_PASSWORD: no password for catalog user {user!r}{hint}")
