"""Policies in the catalog: one draft per domain (what stewards and inference edit) and numbered
published versions (what workers run), all stored as `deid_policy` entities.

- draft: qualifiedName `<domain>.policy.draft@<cluster>`, `status` draft, `version` 0,
  `stewardPaths` = field paths whose rule a steward set (inference's suggestions leave those alone).
- version N: `<domain>.policy.v<N>@<cluster>`, `status` published, `publishedBy`/`publishedAt`.
`rules` holds the whole `deid.policy.Policy` document as JSON. Every write goes through the entity
writer, so it is audited (before/after) as the calling user; publishing adds a POLICY_PUBLISH event.
Each document is validated against the catalog's domain registry (catalog/server/domains.py) before it
is stored: a rule on an unknown field, an unknown treatment or parameter is refused with a message naming
it. Publishing links the domain to the version's purpose topics, and refuses a `keep` of a field tagged
PII (on the raw topic) unless that rule carries an exemption with a reason; the steward who writes an
exemption into the draft is stamped on it as `by`/`at`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from catalog.server.domains import DomainService
from catalog.server.entities import EntityWriter
from catalog.server.errors import AtlasError, Code
from catalog.server.field_tags import pii_fields
from catalog.server.models import AtlasEntity
from catalog.server.typedefs import TypeCache
from catalog.store.db import Store, now_ms
from catalog.store.repository import AuditRepo, EntityRecord, EntityRepo
from deid.domains import Domain, DomainError
from deid.policy import Policy, PolicyError, check_policy, describe_errors, exemption_problems, stamp_exemptions
from deid.policy.rules import FIELD_PATH, Rule, named_branches
from deid.settings import Settings
from deid.tags import POLICY_TYPE

TYPE = POLICY_TYPE
_RULE = TypeAdapter(Rule)


@dataclass(frozen=True)
class Draft:
    policy: Policy
    steward_paths: list[str]
    updated_at: int | None
    updated_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_document(),
            "steward_paths": self.steward_paths,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True)
class Version:
    policy: Policy
    published_by: str | None
    published_at: int | None

    def summary(self) -> dict[str, Any]:
        return {"version": self.policy.version, "published_by": self.published_by, "published_at": self.published_at}


@dataclass(frozen=True)
class Published:
    policy: Policy
    changed: bool

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy.to_document(), "version": self.policy.version, "changed": self.changed}


def bad_request(message: str) -> AtlasError:
    return AtlasError(Code.BAD_REQUEST, message)


def not_found(what: str) -> AtlasError:
    return AtlasError(Code.EMPTY_RESULTS, what)


class PolicyService:
    """Draft, suggestions, publishing and history of each domain's policy."""

    def __init__(self, settings: Settings, store: Store, types: TypeCache, domains: DomainService) -> None:
        self.settings, self.store, self.types = settings, store, types
        self.domains = domains  # the catalog's own registry: a domain put there is policed at once

    # -- names ---------------------------------------------------------------------------------------

    def _cluster(self) -> str:
        return self.settings.cluster

    def draft_name(self, domain: str) -> str:
        return f"{domain}.policy.draft@{self._cluster()}"

    def version_name(self, domain: str, version: int) -> str:
        return f"{domain}.policy.v{version}@{self._cluster()}"

    def domain(self, name: str) -> Domain:
        try:
            return self.domains.get(name)
        except DomainError as exc:
            raise not_found(str(exc)) from None

    # -- validation ----------------------------------------------------------------------------------

    def validated(self, domain: Domain, document: Any, *, status: str) -> Policy:
        """The document as a Policy of `domain` with `status`, or a 400 naming what is wrong."""
        if not isinstance(document, dict):
            raise bad_request("policy: a policy document must be a JSON object (domain, rules, …)")
        document = {**document, "domain": document.get("domain", domain.name), "status": status}
        if status == "draft":
            document["version"] = 0
        try:
            policy = Policy.from_document(document)
            check_policy(policy, domain)
        except PolicyError as exc:
            raise bad_request(str(exc)) from None
        return policy

    def validated_rule(self, domain: Domain, path: str, rule: Any) -> Any:
        if not FIELD_PATH.match(path):
            raise bad_request(f"field path {path!r} is not a field path (a.b, items[].c)")
        if path not in domain.fields:
            raise bad_request(f"unknown field {path!r}; domain {domain.name!r} has: {', '.join(domain.fields)}")
        try:
            _RULE.validate_python(rule)
        except ValidationError as exc:
            raise bad_request("\n".join(f"rule: {line}" for line in describe_errors(exc))) from None
        return rule

    # -- reads ---------------------------------------------------------------------------------------

    def _record(self, session: Session, qualified_name: str, *, for_update: bool = False) -> EntityRecord | None:
        record = EntityRepo(session).by_qualified_name([TYPE], qualified_name, for_update=for_update)
        return record if record is not None and record.row.status == "ACTIVE" else None

    @staticmethod
    def _policy(record: EntityRecord) -> Policy:
        return Policy.from_document(json.loads(record.attributes["rules"]), source=record.row.qualified_name or TYPE)

    def _versions(self, session: Session, domain: str) -> list[EntityRecord]:
        records = [
            r
            for r in EntityRepo(session).of_types([TYPE], include_deleted=False)
            if r.attributes.get("domain") == domain and r.attributes.get("status") == "published"
        ]
        return sorted(records, key=lambda r: int(r.attributes.get("version") or 0))

    def _draft(self, session: Session, domain: str) -> Draft | None:
        record = self._record(session, self.draft_name(domain))
        if record is None:
            return None
        return Draft(
            self._policy(record),
            sorted(record.attributes.get("stewardPaths") or []),
            record.row.update_time,
            record.row.updated_by,
        )

    def get_draft(self, domain: str) -> Draft | None:
        self.domain(domain)
        with self.store.read() as session:
            return self._draft(session, domain)

    def versions(self, domain: str) -> list[Version]:
        self.domain(domain)
        with self.store.read() as session:
            return [self._version(r) for r in self._versions(session, domain)]

    def _version(self, record: EntityRecord) -> Version:
        return Version(self._policy(record), record.attributes.get("publishedBy"), record.attributes.get("publishedAt"))

    def latest(self, domain: str) -> Version | None:
        """The newest version; only its document is parsed (workers poll this every few seconds)."""
        self.domain(domain)
        with self.store.read() as session:
            records = self._versions(session, domain)
            return self._version(records[-1]) if records else None

    def version(self, domain: str, number: int) -> Version | None:
        self.domain(domain)
        with self.store.read() as session:
            record = self._record(session, self.version_name(domain, number))
            return self._version(record) if record else None

    def overview(self) -> list[dict[str, Any]]:
        """Per domain of the registry: whether a draft exists and the latest published version."""
        with self.store.read() as session:
            records = EntityRepo(session).of_types([TYPE], include_deleted=False)
        rows = []
        for domain in self.domains.registry():
            mine = [r for r in records if r.attributes.get("domain") == domain.name]
            published = [r for r in mine if r.attributes.get("status") == "published"]
            latest = max(published, key=lambda r: int(r.attributes.get("version") or 0), default=None)
            rows.append(
                {
                    "domain": domain.name,
                    "draft": any(r.attributes.get("status") == "draft" for r in mine),
                    "published_version": int(latest.attributes["version"]) if latest else None,
                    "published_at": latest.attributes.get("publishedAt") if latest else None,
                    "published_by": latest.attributes.get("publishedBy") if latest else None,
                }
            )
        return rows

    # -- writes --------------------------------------------------------------------------------------

    def _write_draft(self, session: Session, user: str, policy: Policy, steward_paths: set[str]) -> None:
        # Who wrote an exemption into the draft is who granted it; publishing carries it unchanged.
        policy = stamp_exemptions(policy, user, datetime.now(UTC))
        attributes = {
            "qualifiedName": self.draft_name(policy.domain),
            "name": f"{policy.domain} policy (draft)",
            "domain": policy.domain,
            "version": 0,
            "status": "draft",
            "rules": policy.to_json(indent=None),
            "stewardPaths": sorted(steward_paths),
        }
        writer = EntityWriter(session, self.types.registry(session), user)
        writer.upsert([AtlasEntity.model_validate({"typeName": TYPE, "attributes": attributes})])

    def put_draft(self, domain: str, document: Any, user: str) -> Draft:
        """A steward's whole draft (e.g. `deid policy import`): every rule counts as the steward's."""
        policy = self.validated(self.domain(domain), document, status="draft")

        def run(session: Session) -> Draft | None:
            self._write_draft(session, user, policy, set(policy.rules))
            return self._draft(session, domain)

        return self._written(self.store.write(run))

    def set_rule(self, domain: str, path: str, rule: Any, user: str) -> Draft:
        """One field's rule set by a steward (the UI); the draft starts from the latest version if absent."""
        spec = self.domain(domain)
        self.validated_rule(spec, path, rule)

        def run(session: Session) -> Draft | None:
            current = self._draft(session, domain)
            if current is not None:
                base, stewards = current.policy.to_document(), set(current.steward_paths)
            else:
                versions = self._versions(session, domain)
                base = self._policy(versions[-1]).to_document() if versions else {"domain": domain, "rules": {}}
                stewards = set()
            base["rules"] = {**base.get("rules", {}), path: rule}
            policy = self.validated(spec, base, status="draft")
            self._write_draft(session, user, policy, stewards | {path})
            return self._draft(session, domain)

        return self._written(self.store.write(run))

    def suggest(self, domain: str, document: Any, user: str) -> Draft:
        """Inference's suggested draft, merged: steward-set rules and existing purposes are kept."""
        spec = self.domain(domain)
        suggested = self.validated(spec, document, status="draft")

        def run(session: Session) -> Draft | None:
            current = self._draft(session, domain)
            merged = suggested.to_document()
            stewards: set[str] = set()
            if current is not None:
                existing = current.policy.to_document()
                stewards = set(current.steward_paths)
                kept = {p: r for p, r in existing["rules"].items() if p in stewards}
                merged["rules"] = {**merged["rules"], **kept}
                for key in ("purposes", "description", "k_anonymity"):
                    if existing.get(key) and not merged.get(key):
                        merged[key] = existing[key]
            policy = self.validated(spec, merged, status="draft")
            if current is None or policy != current.policy:
                self._write_draft(session, user, policy, stewards)
            return self._draft(session, domain)

        return self._written(self.store.write(run))

    def publish(self, domain: str, user: str) -> Published:
        """Draft → the next version; a draft equal to the latest version publishes nothing."""
        spec = self.domain(domain)

        def run(session: Session) -> Published:
            draft_record = self._record(session, self.draft_name(domain), for_update=True)
            if draft_record is None:
                raise AtlasError(Code.EMPTY_RESULTS, f"a draft policy for domain {domain!r} (nothing to publish)")
            draft = self._policy(draft_record)
            versions = self._versions(session, domain)
            if versions:
                latest = self._policy(versions[-1])
                if _same_rules(latest, draft):
                    return Published(latest, changed=False)
            number = int(versions[-1].attributes["version"]) + 1 if versions else 1
            document = {**draft.to_document(), "version": number}
            policy = self.validated(spec, document, status="published")
            self._check_exemptions(session, spec, policy)
            policy = stamp_exemptions(policy, user, datetime.now(UTC))
            attributes = {
                "qualifiedName": self.version_name(domain, number),
                "name": f"{domain} policy v{number}",
                "domain": domain,
                "version": number,
                "status": "published",
                "rules": policy.to_json(indent=None),
                "publishedBy": user,
                "publishedAt": now_ms(),
            }
            writer = EntityWriter(session, self.types.registry(session), user)
            result = writer.upsert([AtlasEntity.model_validate({"typeName": TYPE, "attributes": attributes})])
            self.domains.link_purposes(session, domain, [policy.purpose_topic(p) for p in policy.purposes], user)
            AuditRepo(session).record(
                user,
                "POLICY_PUBLISH",
                entity_guid=result.created[0] if result.created else None,
                type_name=TYPE,
                details={"domain": domain, "version": number, "exemptions": _exemptions(policy)},
            )
            return Published(policy, changed=True)

        return self.store.write(run)

    def _check_exemptions(self, session: Session, domain: Domain, policy: Policy) -> None:
        """Refuse (400) a policy that keeps a PII-tagged field in clear without an exemption's reason."""
        problems = exemption_problems(policy, pii_fields(session, domain.raw_topic, self._cluster()))
        if problems:
            raise bad_request("publish refused: " + "\n".join(problems))

    @staticmethod
    def _written(draft: Draft | None) -> Draft:
        assert draft is not None  # just written in the same transaction
        return draft


def _exemptions(policy: Policy) -> list[dict[str, Any]]:
    """For the audit: each exempted branch with its reason, by and at."""
    found = []
    for prefix, rules in policy.rule_sets():
        for path, rule in rules.items():
            for suffix, branch in named_branches(rule):
                if branch.exemption is not None:
                    found.append({"where": f"{prefix}.{path}{suffix}", **branch.exemption.model_dump(mode="json")})
    return found


def _same_rules(published: Policy, draft: Policy) -> bool:
    """Whether publishing `draft` would change anything (version, status and description aside)."""
    keys = ("rules", "purposes", "k_anonymity")
    a, b = published.to_document(), draft.to_document()
    return all(a.get(k) == b.get(k) for k in keys)
