"""`CatalogClient`'s policy methods (`/api/deid/v1/policies`, see catalog/server/policies.py), kept
in their own module so the client stays readable; `CatalogClient` inherits them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from catalog.client_errors import NotFound
from deid.policy import Policy

POLICIES = "/api/deid/v1/policies"


class PolicyMethods:
    """Mixed into CatalogClient; relies on its `request`."""

    request: Any

    def _policy_path(self, domain: str, *rest: str) -> str:
        return "/".join([POLICIES, quote(domain, safe=""), *rest])

    def list_policies(self) -> list[dict[str, Any]]:
        """Every domain: `draft` (bool), `published_version`, `published_at`, `published_by`."""
        return self.request("GET", POLICIES)

    def get_policy_draft(self, domain: str) -> dict[str, Any] | None:
        """`{"policy": doc, "steward_paths": [...], "updated_at", "updated_by"}`, or None without a draft."""
        return self._or_none("GET", self._policy_path(domain, "draft"))

    def put_policy_draft(self, domain: str, policy: Policy | dict[str, Any]) -> dict[str, Any]:
        """Replace the draft (every rule then counts as the steward's)."""
        return self.request("PUT", self._policy_path(domain, "draft"), body={"policy": _document(policy)})

    def set_policy_rule(self, domain: str, path: str, rule: dict[str, Any]) -> dict[str, Any]:
        where = self._policy_path(domain, "draft", "rules", quote(path, safe=""))
        return self.request("PUT", where, body={"rule": rule})

    def suggest_policy(self, domain: str, policy: Policy | dict[str, Any]) -> dict[str, Any]:
        """Merge a suggested policy into the draft; rules a steward set stay as they are."""
        return self.request("POST", self._policy_path(domain, "suggestions"), body={"policy": _document(policy)})

    def publish_policy(self, domain: str) -> dict[str, Any]:
        """`{"policy": doc, "version": N, "changed": bool}`; an unchanged draft publishes nothing."""
        return self.request("POST", self._policy_path(domain, "publish"))

    def latest_published_policy(self, domain: str) -> Policy | None:
        document = self._or_none("GET", self._policy_path(domain, "published"))
        return None if document is None else Policy.from_document(document, source=f"catalog policy of {domain}")

    def policy_versions(self, domain: str) -> list[dict[str, Any]]:
        return self.request("GET", self._policy_path(domain, "versions"))

    def get_policy_version(self, domain: str, version: int) -> Policy | None:
        document = self._or_none("GET", self._policy_path(domain, "versions", str(version)))
        return None if document is None else Policy.from_document(document, source=f"{domain} policy v{version}")

    def _or_none(self, method: str, path: str) -> Any:
        try:
            return self.request(method, path)
        except NotFound:
            return None


def _document(policy: Policy | dict[str, Any]) -> dict[str, Any]:
    return policy.to_document() if isinstance(policy, Policy) else policy
