"""The typed errors of `catalog.client.CatalogClient` (re-exported there): one class per HTTP status family,
each carrying the status and Atlas's errorCode. Their own module so the client's mixins can raise and
catch them without importing the client."""

from __future__ import annotations

from deid.errors import DeidError


class CatalogError(DeidError):
    """A catalog request failed; `status` is the HTTP status (0 when unreachable)."""

    def __init__(self, message: str, *, status: int = 0, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class BadRequest(CatalogError):
    pass


class Unauthorized(CatalogError):
    pass


class Forbidden(CatalogError):
    pass


class NotFound(CatalogError):
    pass


class Conflict(CatalogError):
    pass


class ServerError(CatalogError):
    pass


class CatalogUnavailable(CatalogError):
    """The catalog could not be reached (after retries)."""
