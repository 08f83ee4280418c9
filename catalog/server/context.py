"""Everything a request handler needs, built once per app: store, type cache, services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from catalog.server.domains import DomainService
from catalog.server.policies import PolicyService
from catalog.server.typedefs import TypeCache, TypeDefService
from catalog.server.users import InitialAdmin, UserService
from catalog.store.db import Store
from deid.settings import Settings


@dataclass
class CatalogContext:
    settings: Settings
    store: Store
    types: TypeCache
    typedefs: TypeDefService
    users: UserService
    domains: DomainService
    policies: PolicyService
    initial_admin: InitialAdmin | None = None


def get_context(request: Request) -> CatalogContext:
    return request.app.state.catalog
