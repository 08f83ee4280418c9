"""Everything a request handler needs, built once per app: store, type cache, services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from fastapi import Request

from catalog.server.typedefs import TypeCache, TypeDefService
from catalog.server.users import InitialAdmin, UserService
from catalog.store.db import Store
from deid.settings import Settings

if TYPE_CHECKING:
    from catalog.server.policies import PolicyService


@dataclass
class CatalogContext:
    settings: Settings
    store: Store
    types: TypeCache
    typedefs: TypeDefService
    users: UserService
    initial_admin: InitialAdmin | None = None

    @cached_property
    def policies(self) -> PolicyService:
        """Drafts and published versions of each domain's policy (reads the domain registry once)."""
        from catalog.server.policies import PolicyService

        return PolicyService(self)


def get_context(request: Request) -> CatalogContext:
    return request.app.state.catalog
