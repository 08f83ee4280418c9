"""`CatalogClient`: the one way deid's jobs talk to a catalog, ours or a real Apache Atlas.

Every method uses Atlas v2 REST paths and payloads (plain dicts in Atlas's JSON shape), so the same
code runs against Apache Atlas; the few deid-only calls (`audit_feed`, `record_audit`) say so.
Connection failures and 5xx answers are retried with exponential backoff; other failures raise a
typed `CatalogError` carrying Atlas's errorCode.

    client = CatalogClient.from_settings(settings)
    result = client.upsert_entities([entity("kafka_topic", {...}, guid="-1")])
    topic_guid = assigned_guid(result, "-1")
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from typing import Any

import requests

from catalog.client_errors import (
    BadRequest,
    CatalogError,
    CatalogUnavailable,
    Conflict,
    Forbidden,
    NotFound,
    ServerError,
    Unauthorized,
)
from catalog.domain_api import DomainMethods
from catalog.payloads import all_of, any_of, assigned_guid, classification, criterion, entity, object_id
from catalog.policy_api import PolicyMethods
from deid.credentials import DEFAULT_CATALOG_USER, catalog_credentials
from deid.settings import Settings

__all__ = [
    "BadRequest",
    "CatalogClient",
    "CatalogError",
    "CatalogUnavailable",
    "Conflict",
    "Forbidden",
    "NotFound",
    "ServerError",
    "Unauthorized",
    "all_of",
    "any_of",
    "assigned_guid",
    "classification",
    "criterion",
    "default_credentials",
    "entity",
    "object_id",
]

log = logging.getLogger(__name__)

ATLAS = "/api/atlas"
V2 = f"{ATLAS}/v2"
DEID = "/api/deid/v1"
DEFAULT_USER = DEFAULT_CATALOG_USER
default_credentials = catalog_credentials
_RETRY_STATUSES = {500, 502, 503, 504}


_ERRORS: dict[int, type[CatalogError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


class CatalogClient(PolicyMethods, DomainMethods):
    """An Atlas v2 client with retries and typed errors."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.25,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or requests.Session()
        self.session.auth = (user, password)
        self.session.headers.update({"Accept": "application/json"})
        self.user = user

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> CatalogClient:
        user, password = default_credentials(settings)
        return cls(settings.catalog_url, user, password, **options)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        """One call with retries; the decoded JSON answer (None for 204)."""
        url = self.url + path
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(method, url, params=params, json=body, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.retries:
                    raise CatalogUnavailable(
                        f"catalog at {self.url} did not answer {method} {path} ({type(exc).__name__}); is it "
                        "running (`deid stack up`) and is DEID_CATALOG_URL right?"
                    ) from None
                self._sleep(attempt)
                continue
            if response.status_code in _RETRY_STATUSES and attempt < self.retries:
                self._sleep(attempt)
                continue
            return self._decode(method, path, response)
        raise AssertionError("unreachable")

    def _sleep(self, attempt: int) -> None:
        delay = min(self.backoff * 2**attempt, 8.0)
        time.sleep(delay * random.uniform(0.5, 1.0))

    @staticmethod
    def _decode(method: str, path: str, response: requests.Response) -> Any:
        if response.status_code < 300:
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        code, message = None, response.text[:500]
        try:
            payload = response.json()
            code = payload.get("errorCode")
            message = payload.get("errorMessage") or payload.get("message") or message
        except ValueError:
            pass
        error = _ERRORS.get(response.status_code, ServerError if response.status_code >= 500 else CatalogError)
        raise error(
            f"catalog {method} {path}: {response.status_code} {code or ''} {message}".replace("  ", " "),
            status=response.status_code,
            error_code=code,
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    # -- admin -----------------------------------------------------------------------------------------

    def status(self) -> str:
        return str(self.get(f"{ATLAS}/admin/status").get("Status"))

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.status() == "ACTIVE":
                    return
            except CatalogError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise CatalogUnavailable(f"catalog at {self.url} is not ACTIVE after {timeout:g}s")
            time.sleep(0.5)

    def session_info(self) -> dict[str, Any]:
        """The calling user (`userName`) and, on deid's catalog, its `roles`."""
        return self.get(f"{ATLAS}/admin/session")

    # -- typedefs --------------------------------------------------------------------------------------

    def get_typedefs(self, *, type: str | None = None, name: str | None = None) -> dict[str, Any]:
        return self.get(f"{V2}/types/typedefs", type=type, name=name)

    def get_typedef(self, name: str) -> dict[str, Any]:
        return self.get(f"{V2}/types/typedef/name/{name}")

    def get_entity_def(self, name: str) -> dict[str, Any]:
        return self.get(f"{V2}/types/entitydef/name/{name}")

    def get_classification_def(self, name: str) -> dict[str, Any]:
        return self.get(f"{V2}/types/classificationdef/name/{name}")

    def create_typedefs(self, types_def: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{V2}/types/typedefs", body=types_def)

    def update_typedefs(self, types_def: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"{V2}/types/typedefs", body=types_def)

    def delete_typedefs(self, types_def: dict[str, Any]) -> None:
        self.request("DELETE", f"{V2}/types/typedefs", body=types_def)

    def delete_typedef(self, name: str) -> None:
        self.request("DELETE", f"{V2}/types/typedef/name/{name}")

    def ensure_typedefs(self, types_def: dict[str, Any]) -> list[str]:
        """Create the typedefs of `types_def` that do not exist yet; returns their names."""
        missing: dict[str, list[dict[str, Any]]] = {}
        for key, defs in types_def.items():
            for definition in defs or []:
                try:
                    self.get_typedef(definition["name"])
                except NotFound:
                    missing.setdefault(key, []).append(definition)
        if missing:
            self.create_typedefs(missing)
        return [d["name"] for defs in missing.values() for d in defs]

    # -- entities --------------------------------------------------------------------------------------

    def get_entity(
        self, guid: str, *, min_ext_info: bool = False, ignore_relationships: bool = False
    ) -> dict[str, Any]:
        """AtlasEntityWithExtInfo: {"entity": …, "referredEntities": {guid: …}}."""
        return self.get(
            f"{V2}/entity/guid/{guid}",
            minExtInfo=str(min_ext_info).lower(),
            ignoreRelationships=str(ignore_relationships).lower(),
        )

    def get_entities(self, guids: list[str]) -> dict[str, Any]:
        return self.request("GET", f"{V2}/entity/bulk", params={"guid": guids})

    def get_entity_by_qualified_name(
        self, type_name: str, qualified_name: str, *, ignore_relationships: bool = False
    ) -> dict[str, Any]:
        return self.get(
            f"{V2}/entity/uniqueAttribute/type/{type_name}",
            **{"attr:qualifiedName": qualified_name, "ignoreRelationships": str(ignore_relationships).lower()},
        )

    def find_entity(self, type_name: str, qualified_name: str) -> dict[str, Any] | None:
        """The entity (AtlasEntity, not the ext-info wrapper) or None."""
        try:
            return self.get_entity_by_qualified_name(type_name, qualified_name)["entity"]
        except NotFound:
            return None

    def upsert_entity(self, body: dict[str, Any], referred: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create or update one entity (matched by unique attributes): EntityMutationResponse."""
        return self.request("POST", f"{V2}/entity", body={"entity": body, "referredEntities": referred or {}})

    def upsert_entities(self, entities: list[dict[str, Any]], referred: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create or update entities in one transaction: EntityMutationResponse."""
        return self.request(
            "POST", f"{V2}/entity/bulk", body={"entities": entities, "referredEntities": referred or {}}
        )

    def update_entity_by_qualified_name(
        self, type_name: str, qualified_name: str, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        """Partial update: only `attributes` change."""
        body = {"entity": {"typeName": type_name, "attributes": attributes}}
        return self.request(
            "PUT",
            f"{V2}/entity/uniqueAttribute/type/{type_name}",
            params={"attr:qualifiedName": qualified_name},
            body=body,
        )

    def set_attribute(self, guid: str, name: str, value: Any) -> dict[str, Any]:
        return self.request("PUT", f"{V2}/entity/guid/{guid}", params={"name": name}, body=value)

    def delete_entity(self, guid: str) -> dict[str, Any]:
        return self.request("DELETE", f"{V2}/entity/guid/{guid}")

    def delete_entities(self, guids: list[str]) -> dict[str, Any]:
        return self.request("DELETE", f"{V2}/entity/bulk", params={"guid": guids})

    # -- classifications ---------------------------------------------------------------------------------

    def get_classifications(self, guid: str) -> list[dict[str, Any]]:
        return list((self.get(f"{V2}/entity/guid/{guid}/classifications") or {}).get("list") or [])

    def get_classification(self, guid: str, name: str) -> dict[str, Any]:
        return self.get(f"{V2}/entity/guid/{guid}/classification/{name}")

    def add_classifications(self, guid: str, classifications: list[dict[str, Any]]) -> None:
        self.request("POST", f"{V2}/entity/guid/{guid}/classifications", body=classifications)

    def update_classifications(self, guid: str, classifications: list[dict[str, Any]]) -> None:
        """Update associated classifications (deid's catalog keeps a steward's decision against
        an update whose `source` is `detected`)."""
        self.request("PUT", f"{V2}/entity/guid/{guid}/classifications", body=classifications)

    def remove_classification(self, guid: str, name: str) -> None:
        self.request("DELETE", f"{V2}/entity/guid/{guid}/classification/{name}")

    def classify_entities(self, body: dict[str, Any], guids: list[str]) -> None:
        """Add one classification to many entities."""
        self.request("POST", f"{V2}/entity/bulk/classification", body={"classification": body, "entityGuids": guids})

    def upsert_classifications(self, guid: str, classifications: list[dict[str, Any]]) -> None:
        """Add the classifications the entity lacks, update those it has."""
        present = {c["typeName"] for c in self.get_classifications(guid)}
        new = [c for c in classifications if c["typeName"] not in present]
        known = [c for c in classifications if c["typeName"] in present]
        if new:
            try:
                self.add_classifications(guid, new)
            except BadRequest:
                known.extend(new)  # a concurrent writer added them first
        if known:
            self.update_classifications(guid, known)

    # -- audit ---------------------------------------------------------------------------------------------

    def get_entity_audit(
        self, guid: str, *, count: int = 100, action: str | None = None, start_key: str | None = None
    ) -> list[dict[str, Any]]:
        """EntityAuditEventV2 list, newest first."""
        return self.get(f"{V2}/entity/{guid}/audit", count=count, auditAction=action, startKey=start_key)

    def audit_feed(self, *, since: int = 0, limit: int = 100, **filters: str) -> dict[str, Any]:
        """deid only: every audited write after event id `since` ({"events": […], "next": id})."""
        return self.get(f"{DEID}/audit", since=since, limit=limit, **filters)

    def record_audit(
        self,
        action: str,
        *,
        entity_guid: str | None = None,
        type_name: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """deid only: audit an action that is not an entity write (e.g. REIDENTIFY, SUBJECT_ERASE)."""
        body = {"action": action, "entityGuid": entity_guid, "typeName": type_name, "details": details}
        return self.request("POST", f"{DEID}/audit", body={k: v for k, v in body.items() if v is not None})

    # -- search and lineage ----------------------------------------------------------------------------------

    def search_basic(
        self,
        *,
        type_name: str | None = None,
        classification: str | None = None,
        query: str | None = None,
        entity_filters: dict[str, Any] | None = None,
        tag_filters: dict[str, Any] | None = None,
        attributes: list[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        limit: int = 100,
        offset: int = 0,
        exclude_deleted: bool = True,
    ) -> dict[str, Any]:
        """AtlasSearchResult (POST /search/basic); `entities` may be absent on Atlas when none match."""
        body = {
            "typeName": type_name,
            "classification": classification,
            "query": query,
            "entityFilters": entity_filters,
            "tagFilters": tag_filters,
            "attributes": attributes,
            "sortBy": sort_by,
            "sortOrder": sort_order,
            "limit": limit,
            "offset": offset,
            "excludeDeletedEntities": exclude_deleted,
        }
        return self.request("POST", f"{V2}/search/basic", body={k: v for k, v in body.items() if v is not None})

    def search_all(self, *, page_size: int = 500, **criteria: Any) -> Iterator[dict[str, Any]]:
        """Every matching entity header, page by page."""
        offset = 0
        while True:
            page = self.search_basic(limit=page_size, offset=offset, **criteria).get("entities") or []
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def search_dsl(self, query: str, *, limit: int | None = None, offset: int | None = None) -> dict[str, Any]:
        return self.get(f"{V2}/search/dsl", query=query, limit=limit, offset=offset)

    def get_lineage(self, guid: str, *, direction: str = "BOTH", depth: int = 3) -> dict[str, Any]:
        return self.get(f"{V2}/lineage/{guid}", direction=direction, depth=depth)
