"""Domains in the catalog: one `deid_domain` entity per event family, the registry every process reads.

- qualifiedName `<domain>@<cluster>`, `name` the domain's name, `definition` the whole
  `deid.domains.Domain` model as JSON (so a field the model gains travels without a typedef change);
- `rawTopic`, `anonymisedTopic`, `dlqTopic` link the domain's `kafka_topic`s (created here when inference
  has not described them yet); `purposeTopics` the purpose topics of its latest published policy.
Writes go through the entity writer, so each is audited (who, when, before, after) as the calling user.
On a catalog's first start the seed (`deid/domains.yaml` plus the config file's `domains:`) is imported;
after that the catalog alone decides, and a domain put here is usable at once by every reader.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from catalog.server.entities import EntityWriter
from catalog.server.errors import AtlasError, Code
from catalog.server.models import AtlasEntity
from catalog.server.typedefs import TypeCache
from catalog.store.db import Store
from catalog.store.repository import EntityRecord, EntityRepo
from deid.domains import Domain, DomainError, DomainRegistry, parse_domain
from deid.settings import Settings
from deid.tags import DOMAIN_TYPE

log = logging.getLogger(__name__)
TOPIC_TYPE = "kafka_topic"
SEED_USER = "deid-seed"


@dataclass(frozen=True)
class DomainEntry:
    """A stored domain with who created and last changed it, and when (epoch ms)."""

    domain: Domain
    guid: str
    created_by: str
    created_at: int
    updated_by: str
    updated_at: int
    purpose_topics: list[str]

    def to_json(self) -> dict[str, Any]:
        d = self.domain
        return {
            "name": d.name,
            "definition": d.to_document(),
            "topics": {"raw": d.raw_topic, "anonymised": d.anonymised_topic, "dlq": d.dlq_topic},
            "purpose_topics": self.purpose_topics,
            "guid": self.guid,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Upserted:
    entry: DomainEntry
    created: bool
    changed: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.entry.to_json(), "created": self.created, "changed": self.changed}


class DomainService:
    """The catalog's domain registry (a `deid.domains.DomainSource` read straight from the store)."""

    def __init__(self, settings: Settings, store: Store, types: TypeCache) -> None:
        self.settings, self.store, self.types = settings, store, types

    def qualified_name(self, name: str) -> str:
        return f"{name}@{self.settings.cluster}"

    def describe(self) -> str:
        return "the catalog"

    # -- reads ---------------------------------------------------------------------------------------

    def _records(self, session: Session) -> list[EntityRecord]:
        return EntityRepo(session).of_types([DOMAIN_TYPE], include_deleted=False)

    def _entry(self, session: Session, record: EntityRecord) -> DomainEntry:
        attributes = record.attributes
        name = str(attributes.get("name"))
        try:
            definition = json.loads(attributes.get("definition") or "null")
        except ValueError:
            raise DomainError(f"catalog domain {name!r}: its stored definition is not JSON; put it again") from None
        domain = parse_domain(name, definition, f"catalog domain {self.qualified_name(name)}")
        purposes = EntityRepo(session).get_many(
            ref["guid"] for ref in attributes.get("purposeTopics") or [] if isinstance(ref, dict) and "guid" in ref
        )
        row = record.row
        return DomainEntry(
            domain,
            record.guid,
            row.created_by,
            row.create_time,
            row.updated_by,
            row.update_time,
            sorted(str(p.attributes.get("name")) for p in purposes.values()),
        )

    def entries(self) -> list[DomainEntry]:
        """Every readable domain by name; one whose stored definition no longer validates is logged, skipped."""
        with self.store.read() as session:
            entries = []
            for record in self._records(session):
                try:
                    entries.append(self._entry(session, record))
                except DomainError as exc:
                    log.error("%s", exc)
            return sorted(entries, key=lambda e: e.domain.name)

    def entry(self, name: str) -> DomainEntry | None:
        with self.store.read() as session:
            record = self._active(session, name)
            return None if record is None else self._entry(session, record)

    def _active(self, session: Session, name: str, *, for_update: bool = False) -> EntityRecord | None:
        record = EntityRepo(session).by_qualified_name([DOMAIN_TYPE], self.qualified_name(name), for_update=for_update)
        return record if record is not None and record.row.status == "ACTIVE" else None

    def registry(self) -> DomainRegistry:
        return DomainRegistry({e.domain.name: e.domain for e in self.entries()})

    def get(self, name: str) -> Domain:
        found = self.entry(name)
        if found is None:
            known = ", ".join(self.registry().names) or "none"
            raise DomainError(
                f"unknown domain {name!r}; known domains: {known} (add it: `deid domains add` or PUT "
                f"/api/deid/v1/domains/{name})"
            )
        return found.domain

    # -- writes --------------------------------------------------------------------------------------

    def validated(self, name: str, definition: Any) -> Domain:
        """The definition as a Domain called `name`, or a 400 naming the key that is wrong."""
        if isinstance(definition, dict) and "name" in definition:
            if definition["name"] != name:
                raise AtlasError(Code.BAD_REQUEST, f"domain: name {definition['name']!r} differs from {name!r}")
            definition = {k: v for k, v in definition.items() if k != "name"}
        try:
            return parse_domain(name, definition, "domain")
        except DomainError as exc:
            raise AtlasError(Code.BAD_REQUEST, str(exc)) from None

    def _topic(self, topic: str) -> dict[str, Any]:
        qualified = f"{topic}@{self.settings.cluster}"
        attributes = {"qualifiedName": qualified, "name": topic, "topic": topic, "uri": topic}
        return {"typeName": TOPIC_TYPE, "attributes": attributes}

    def _ref(self, topic: str) -> dict[str, Any]:
        return {"typeName": TOPIC_TYPE, "uniqueAttributes": {"qualifiedName": f"{topic}@{self.settings.cluster}"}}

    def _write(self, session: Session, domain: Domain, user: str, purpose_topics: list[str] | None = None) -> bool:
        """Upsert the entity (and its topics); True if anything changed."""
        attributes: dict[str, Any] = {
            "qualifiedName": self.qualified_name(domain.name),
            "name": domain.name,
            "description": domain.description,
            "definition": json.dumps(domain.to_document(), sort_keys=True, separators=(",", ":")),
            "rawTopic": self._ref(domain.raw_topic),
            "anonymisedTopic": self._ref(domain.anonymised_topic),
            "dlqTopic": self._ref(domain.dlq_topic),
        }
        topics = list(domain.topics)
        if purpose_topics is not None:
            attributes["purposeTopics"] = [self._ref(t) for t in purpose_topics]
            topics += purpose_topics
        entities = [*(self._topic(t) for t in topics), {"typeName": DOMAIN_TYPE, "attributes": attributes}]
        writer = EntityWriter(session, self.types.registry(session), user)
        result = writer.upsert([AtlasEntity.model_validate(e) for e in entities])
        return bool(result.created or result.updated or result.partially_updated)

    def upsert(self, name: str, definition: Any, user: str) -> Upserted:
        """Create or replace the domain `name` (idempotent: the same definition again changes nothing)."""
        domain = self.validated(name, definition)

        def run(session: Session) -> Upserted:
            created = self._active(session, name, for_update=True) is None
            changed = self._write(session, domain, user)
            record = self._active(session, name)
            assert record is not None  # just written in this transaction
            return Upserted(self._entry(session, record), created, changed)

        return self.store.write(run)

    def link_purposes(self, session: Session, name: str, purpose_topics: list[str], user: str) -> None:
        """Point the domain at its latest published policy's purpose topics (inside the publishing transaction)."""
        record = self._active(session, name)
        if record is not None:
            self._write(session, self._entry(session, record).domain, user, purpose_topics)

    def seed(self, seed: DomainRegistry) -> list[str]:
        """On a catalog's first start (no domain was ever stored), import `seed`; later starts leave it alone."""

        def run(session: Session) -> list[str]:
            if EntityRepo(session).of_types([DOMAIN_TYPE], include_deleted=True):
                return []
            for domain in seed:
                self._write(session, domain, SEED_USER)
            return seed.names

        imported = self.store.write(run)
        if imported:
            log.info("catalog: imported %d seed domains (%s)", len(imported), ", ".join(imported))
        return imported
