"""The catalog bound to the worker's seams (pipelines/policy_source.py): where policies come from,
where lineage and uncovered fields go, who may re-identify and where that is audited.

- `CatalogPolicySource`: the domain's latest published version (`/api/deid/v1/policies/…/published`).
- `CatalogLineageSink`: upserts the domain's `deid_pipeline` (a Process: raw `kafka_topic` in, the
  anonymised and purpose topics out, policy version, delivery mode, state, host) when a worker starts,
  switches policy or stops, and tags the output topics' fields (`pipelines/treated_tags.py`: PII_TREATED,
  or the PII entity where a field is kept by exemption); reports fields no rule covered to the audit feed.
  Lineage is reporting:
  when the catalog cannot take it the stream goes on and the log says why.
- `CatalogAuthorizer` + `CatalogAuditSink`: re-identification needs the catalog role steward or admin,
  and is audited as that user. Auditing is not optional: a run that cannot be audited does not start.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Sequence
from typing import Any

from catalog.client import CatalogClient, CatalogError, CatalogUnavailable
from catalog.tags import effective_tag
from deid.errors import ConfigError, DeidError
from deid.policy import Policy
from deid.settings import Settings
from deid.tags import PIPELINE_TYPE
from pipelines.policy_source import LineageSink, LoggingSink, PipelineLineage, PolicySource
from pipelines.reidentify import AuthorizationError
from pipelines.treated_tags import treated_fields

log = logging.getLogger(__name__)

TOPIC_TYPE = "kafka_topic"
REIDENTIFY_ROLES = ("steward", "admin")


def catalog_client(settings: Settings) -> CatalogClient:
    """The catalog as the configured user (`deid.credentials`), failing fast rather than retrying for long."""
    return CatalogClient.from_settings(settings, retries=2, timeout=15.0)


def pipeline_qualified_name(domain: str, cluster: str) -> str:
    return f"deid-pipeline-{domain}@{cluster}"


def lineage_sink(settings: Settings) -> LineageSink:
    """The catalog's lineage sink; without catalog credentials (a worker on a policy file, no catalog in
    reach) the lineage is only logged, and a warning says so."""
    try:
        return CatalogLineageSink(catalog_client(settings))
    except ConfigError as exc:
        log.warning("lineage goes to the log only, not the catalog: %s", exc)
        return LoggingSink()


class CatalogPolicySource:
    def __init__(self, client: CatalogClient) -> None:
        self.client = client

    def describe(self) -> str:
        return f"the catalog at {self.client.url}"

    def latest_published(self, domain: str) -> Policy | None:
        try:
            return self.client.latest_published_policy(domain)
        except CatalogUnavailable as exc:
            raise DeidError(f"{self.describe()} is not reachable ({exc}); start it (`deid stack up`)") from None


def _topic(name: str, cluster: str) -> dict[str, Any]:
    qualified = f"{name}@{cluster}"
    return {
        "typeName": TOPIC_TYPE,
        "attributes": {"qualifiedName": qualified, "name": name, "topic": name, "uri": name},
    }


def _ref(type_name: str, qualified_name: str) -> dict[str, Any]:
    return {"typeName": type_name, "uniqueAttributes": {"qualifiedName": qualified_name}}


def pipeline_entities(lineage: PipelineLineage, state: str) -> list[dict[str, Any]]:
    """The `deid_pipeline` and the topics it links (created if inference has not described them yet)."""
    cluster = lineage.cluster
    topics = [*lineage.inputs, *lineage.outputs]
    pipeline = {
        "typeName": PIPELINE_TYPE,
        "attributes": {
            "qualifiedName": pipeline_qualified_name(lineage.domain, cluster),
            "name": f"deid pipeline {lineage.domain}",
            "domain": lineage.domain,
            "policyVersion": lineage.policy_version,
            "deliveryMode": lineage.delivery_mode,
            "state": state,
            "startedAt": int(time.time() * 1000),
            "host": socket.gethostname(),
            "inputs": [_ref(TOPIC_TYPE, f"{t}@{cluster}") for t in lineage.inputs],
            "outputs": [_ref(TOPIC_TYPE, f"{t}@{cluster}") for t in lineage.outputs],
        },
    }
    if lineage.risk is not None:
        pipeline["attributes"]["riskReport"] = json.dumps(lineage.risk, sort_keys=True)
    return [*(_topic(t, cluster) for t in topics), pipeline]


def catalog_policy_source(settings: Settings) -> PolicySource:
    """The catalog (its latest published version of each domain's policy), as the configured user."""
    return CatalogPolicySource(catalog_client(settings))


class CatalogLineageSink:
    """Lineage the catalog could not take is kept (the latest state of the pipeline, the uncovered paths)
    and sent again every `retry_seconds` from `retry_pending`, until the catalog takes it."""

    def __init__(self, client: CatalogClient, retry_seconds: float = 10.0) -> None:
        self.client = client
        self.retry_seconds = retry_seconds
        self._pending_state: tuple[PipelineLineage, str] | None = None
        self._pending_paths: dict[str, list[str]] = {}
        self._next_retry = 0.0

    def _upsert(self, lineage: PipelineLineage, state: str) -> None:
        try:
            self.client.upsert_entities(pipeline_entities(lineage, state))
            self._pending_state = None
        except CatalogError as exc:
            self._pending_state = (lineage, state)
            self._next_retry = time.monotonic() + self.retry_seconds
            log.error(
                "lineage of %s not recorded in the catalog (%s); the stream goes on, retrying every %gs",
                lineage.domain,
                exc,
                self.retry_seconds,
            )

    def retry_pending(self) -> None:
        if (self._pending_state is None and not self._pending_paths) or time.monotonic() < self._next_retry:
            return
        if self._pending_state is not None:
            lineage, state = self._pending_state
            self._upsert(lineage, state)
            if self._pending_state is None:
                log.info("lineage of %s recorded in the catalog (%s)", lineage.domain, state)
        for domain, paths in list(self._pending_paths.items()):
            del self._pending_paths[domain]
            self._report_uncovered(domain, paths)

    def pipeline_started(self, lineage: PipelineLineage) -> None:
        self._upsert(lineage, "running")
        self._tag_outputs(lineage)

    def _tag_outputs(self, lineage: PipelineLineage) -> None:
        """The output topics' fields carry PII_TREATED (or their PII entity where kept by exemption)."""
        try:
            policy = self.client.get_policy_version(lineage.domain, lineage.policy_version)
            pii = pii_tags(self.client, lineage.inputs[0], lineage.cluster) if lineage.inputs else None
            if policy is None or not pii:
                return  # a policy file the catalog does not hold, or no tags yet: nothing to carry over
            entities = treated_fields(policy, pii, lineage.cluster)
            if entities:
                self.client.upsert_entities([{k: v for k, v in e.items() if k != "classifications"} for e in entities])
            for entity in entities:
                self._classify(entity["attributes"]["qualifiedName"], entity["classifications"][0])
        except CatalogError as exc:
            log.error("treatment tags of %s not recorded in the catalog (%s); the stream goes on", lineage.domain, exc)

    def pipeline_stopped(self, lineage: PipelineLineage) -> None:
        self._upsert(lineage, "stopped")

    def _classify(self, qualified_name: str, classification: dict[str, Any]) -> None:
        """Set the field's one treatment tag, removing the other kind a previous policy version left."""
        found = self.client.find_entity("avro_field", qualified_name)
        if found is None:
            return
        guid = found["guid"]
        for stale in self.client.get_classifications(guid):
            if stale["typeName"] != classification["typeName"]:
                self.client.remove_classification(guid, stale["typeName"])
        self.client.upsert_classifications(guid, [classification])

    def uncovered_fields(self, domain: str, paths: Sequence[str]) -> None:
        log.warning("%s: fields no rule covers were dropped: %s", domain, ", ".join(paths))
        self._report_uncovered(domain, list(paths))

    def _report_uncovered(self, domain: str, paths: list[str]) -> None:
        try:
            self.client.record_audit(
                "UNCOVERED_FIELDS", type_name=PIPELINE_TYPE, details={"domain": domain, "paths": paths}
            )
        except CatalogError as exc:
            self._pending_paths.setdefault(domain, []).extend(
                p for p in paths if p not in self._pending_paths.get(domain, [])
            )
            self._next_retry = time.monotonic() + self.retry_seconds
            log.error("uncovered fields of %s not reported to the catalog (%s); retrying later", domain, exc)


class CatalogAuthorizer:
    """Re-identification needs the catalog role steward or admin; the user is the one the catalog names."""

    def __init__(self, client: CatalogClient) -> None:
        self.client = client

    def authorize(self, domain: str, fields: Sequence[str]) -> str:
        try:
            session = self.client.session_info()
        except CatalogError as exc:
            raise AuthorizationError(f"cannot check who may re-identify {domain} with the catalog: {exc}") from None
        user, roles = session.get("userName", "?"), session.get("roles") or []
        if not any(role in REIDENTIFY_ROLES for role in roles):
            raise AuthorizationError(
                f"{user} (role {', '.join(roles) or 'none'}) may not re-identify {domain}: it needs the catalog role "
                "steward or admin"
            )
        return str(user)


class CatalogAuditSink:
    def __init__(self, client: CatalogClient) -> None:
        self.client = client

    def reidentified(self, user: str, domain: str, fields: Sequence[str], records: int, destination: str) -> None:
        details = {"domain": domain, "fields": list(fields), "records": records, "destination": destination}
        try:
            self.client.record_audit("REIDENTIFY", details=details)
        except CatalogError as exc:
            raise DeidError(f"re-identification of {domain} could not be audited in the catalog: {exc}") from None

    def reidentification_started(self, domain: str, fields: Sequence[str], destination: str) -> None:
        """Recorded before any value is decrypted, so an interrupted run is audited too."""
        details = {"domain": domain, "fields": list(fields), "destination": destination}
        try:
            self.client.record_audit("REIDENTIFY_START", details=details)
        except CatalogError as exc:
            raise DeidError(
                f"re-identification of {domain} cannot start: the catalog did not audit it ({exc})"
            ) from None


def pii_tags(client: CatalogClient, topic: str, cluster: str) -> dict[str, str] | None:
    """Field path → PII entity of the topic's `avro_field`s (effective tag not NON_PII, suggested or confirmed: the
    rule of publish validation), for the region guard; None when the catalog knows no field of it (unknown)."""
    prefix, suffix = f"{topic}.", f"@{cluster}"
    headers = client.search_all(
        type_name="avro_field",
        entity_filters={"attributeName": "qualifiedName", "operator": "startswith", "attributeValue": prefix},
    )
    found: dict[str, str] = {}
    seen = 0
    for header in headers:
        name = str((header.get("attributes") or {}).get("qualifiedName", ""))
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        seen += 1
        tag = effective_tag(client.get_classifications(header["guid"]))
        if tag.is_pii:
            found[name[len(prefix) : -len(suffix)]] = tag.entity
    return dict(sorted(found.items())) if seen else None


def source_pii_tags(source: object, topic: str, cluster: str) -> dict[str, str] | None:
    """The tags when policies come from the catalog; None (unknown: every kept field counts) otherwise."""
    if not isinstance(source, CatalogPolicySource):
        return None
    try:
        return pii_tags(source.client, topic, cluster)
    except CatalogUnavailable:
        log.warning("the catalog is not reachable: every kept field counts as PII for the region guard")
        return None
