"""`CatalogClient`'s domain methods (`/api/deid/v1/domains`, see catalog/server/domains.py), and
`CatalogDomains`: the catalog as a `deid.domains.DomainSource` for workers, inference and the CLI.

`CatalogDomains` caches what it read; an unknown name refreshes the cache once before it says "unknown",
so a domain added while a process runs is found at once, and known ones cost no request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from catalog.client_errors import CatalogError, CatalogUnavailable, NotFound, Unauthorized
from deid.domains import Domain, DomainError, DomainRegistry, SourceUnavailable, parse_domain
from deid.errors import ConfigError

DOMAINS = "/api/deid/v1/domains"


class DomainMethods:
    """Mixed into CatalogClient; relies on its `request`."""

    request: Any

    def list_domains(self) -> list[dict[str, Any]]:
        """Every domain: `name`, `definition`, `topics`, `purpose_topics`, `created_by/at`, `updated_by/at`."""
        return self.request("GET", DOMAINS)

    def get_domain(self, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"{DOMAINS}/{quote(name, safe='')}")
        except NotFound:
            return None

    def put_domain(self, domain: Domain | str, definition: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create or replace a domain (a `Domain`, or a name and its definition); adds `created`, `changed`."""
        if isinstance(domain, Domain):
            name, definition = domain.name, domain.to_document()
        else:
            name = domain
        return self.request("PUT", f"{DOMAINS}/{quote(name, safe='')}", body={"domain": definition})


def domain_of(entry: dict[str, Any]) -> Domain:
    """The `Domain` of one `/api/deid/v1/domains` entry."""
    return parse_domain(entry["name"], entry["definition"], f"catalog domain {entry['name']!r}")


class CatalogDomains:
    """The catalog's domains, cached for `ttl` seconds (an unknown name always asks the catalog again)."""

    def __init__(
        self,
        client: Any = None,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        """`client` (a CatalogClient), or `connect` to make one on first use (missing credentials then read
        as "catalog unavailable", which lets `FallbackDomains` use the seed)."""
        self._client, self._connect = client, connect
        self.ttl, self.clock = ttl, clock
        self._domains: dict[str, Domain] | None = None
        self._read_at = 0.0

    @property
    def client(self) -> Any:
        if self._client is None:
            assert self._connect is not None, "CatalogDomains needs a client or a way to connect"
            try:
                self._client = self._connect()
            except ConfigError as exc:
                raise SourceUnavailable(f"cannot reach the catalog: {exc}") from None
        return self._client

    def describe(self) -> str:
        return f"the catalog at {self._client.url}" if self._client is not None else "the catalog"

    def _refresh(self) -> dict[str, Domain]:
        client = self.client
        try:
            entries = client.list_domains()
        except (CatalogUnavailable, Unauthorized) as exc:
            raise SourceUnavailable(f"cannot read the domains from {self.describe()}: {exc}") from None
        except CatalogError as exc:
            raise SourceUnavailable(f"{self.describe()} refused the domain list: {exc}") from None
        self._domains = {entry["name"]: domain_of(entry) for entry in entries}
        self._read_at = self.clock()
        return self._domains

    def _current(self) -> dict[str, Domain]:
        if self._domains is None or self.clock() - self._read_at > self.ttl:
            return self._refresh()
        return self._domains

    def get(self, name: str) -> Domain:
        domains = self._current()
        if name not in domains:
            domains = self._refresh()  # added since we last looked?
        if name not in domains:
            raise DomainError(
                f"unknown domain {name!r} in {self.describe()}; known domains: {', '.join(sorted(domains)) or 'none'}"
                " (add it with `deid domains add`)"
            )
        return domains[name]

    def registry(self) -> DomainRegistry:
        return DomainRegistry(dict(self._current()))
