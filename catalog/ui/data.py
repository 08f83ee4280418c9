"""What the pages show, read from the catalog store in-process: each domain's topic, its fields with their
effective tag (`catalog.tags.effective_tag`) and draft treatment, schema version, policy versions and
the `deid_pipeline` entities (interfaces2 §1-§3)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.server.context import CatalogContext
from catalog.server.typesystem import TypeRegistry
from catalog.server.views import EntityReader, render_classification
from catalog.store.repository import ClassificationRepo, EntityRecord, loads
from catalog.store.tables import EntityRow
from catalog.tags import EffectiveTag, effective_tag, parse_evidence
from deid.domains import Domain, FieldType
from deid.policy import ALLOWED_TREATMENTS, treatment_options
from deid.tags import FREE_TEXT, NON_PII, PII, PIPELINE_TYPE

# Avro type of a field → the domain field type whose treatments apply (when the registry does not say).
_AVRO_FIELD_TYPES: dict[str, FieldType] = {
    "string": "string",
    "int": "int",
    "long": "long",
    "float": "double",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


@dataclass
class FieldRow:
    path: str
    avro_type: str
    field_type: FieldType | None
    tag: EffectiveTag
    guid: str | None = None
    qualified_name: str | None = None
    classifications: list[dict[str, Any]] = field(default_factory=list)
    rule: dict[str, Any] | None = None
    steward_rule: bool = False
    in_domain: bool = True

    @property
    def needs_review(self) -> bool:
        return self.guid is not None and (self.tag.needs_review or not self.classifications)

    @property
    def treatment(self) -> str:
        if self.rule is None:
            return "drop (no rule)"
        if "treatment" in self.rule:
            return str(self.rule["treatment"])
        return f"consent: {self.rule['with_consent']['treatment']} / {self.rule['without_consent']['treatment']}"

    @property
    def options(self) -> list[dict[str, Any]]:
        return treatment_options(self.field_type) if self.field_type and self.in_domain else []

    @property
    def allowed(self) -> tuple[str, ...]:
        return ALLOWED_TREATMENTS[self.field_type] if self.field_type and self.in_domain else ()

    @property
    def evidence(self) -> dict[str, Any]:
        """The detection's evidence; for a steward's own tag, that of the detection it overrode."""
        if self.tag.evidence:
            return self.tag.evidence
        detected = [c.get("attributes") or {} for c in self.classifications]
        detected = [a for a in detected if a.get("evidence")]
        best = max(detected, key=lambda a: float(a.get("confidence") or 0.0), default=None)
        return parse_evidence(best.get("evidence")) if best else {}

    @property
    def rejected(self) -> list[str]:
        return [c["typeName"] for c in self.classifications if (c.get("attributes") or {}).get("status") == "rejected"]


@dataclass
class Pipeline:
    qualified_name: str
    attributes: dict[str, Any]
    inputs: list[str]
    outputs: list[str]

    @property
    def state(self) -> str:
        return str(self.attributes.get("state") or "unknown")

    @property
    def policy_version(self) -> Any:
        return self.attributes.get("policyVersion")


@dataclass
class Topic:
    domain: Domain
    fields: list[FieldRow]
    schema_version: int | None
    topic_known: bool
    published_version: int | None
    published_by: str | None
    published_at: int | None
    has_draft: bool
    pipeline: Pipeline | None

    @property
    def inferred(self) -> list[FieldRow]:
        return [f for f in self.fields if f.guid is not None]

    @property
    def pii_count(self) -> int:
        return sum(1 for f in self.inferred if f.tag.is_pii)

    @property
    def review_count(self) -> int:
        return sum(1 for f in self.fields if f.needs_review)

    @property
    def reviewed_count(self) -> int:
        return len(self.inferred) - self.review_count


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CatalogView:
    """Reads for one page, in one read transaction."""

    def __init__(self, ctx: CatalogContext, session: Session) -> None:
        self.ctx = ctx
        self.session = session
        self.registry: TypeRegistry = ctx.types.registry(session)
        self.reader = EntityReader(session, self.registry)
        self.cluster = ctx.settings.cluster

    def _named(self, type_name: str, prefix: str, suffix: str) -> list[EntityRecord]:
        query = select(EntityRow).where(
            EntityRow.type_name == type_name,
            EntityRow.status == "ACTIVE",
            EntityRow.qualified_name.like(f"{_like_escape(prefix)}%{_like_escape(suffix)}", escape="\\"),
        )
        rows = self.session.scalars(query)
        return [
            EntityRecord(r, loads(r.attributes))
            for r in rows
            if r.qualified_name.startswith(prefix) and r.qualified_name.endswith(suffix)
        ]

    def entity(self, type_name: str, qualified_name: str) -> EntityRecord | None:
        record = self.reader.entities.by_qualified_name([type_name], qualified_name)
        return record if record is not None and record.row.status == "ACTIVE" else None

    def entity_choices(self) -> list[str]:
        """NON_PII, FREE_TEXT and every PII subtype the catalog knows (what a steward may tag a field as)."""
        pii = [
            n
            for n in self.registry.names("CLASSIFICATION")
            if n not in (PII, FREE_TEXT) and self.registry.is_a(n, PII)
        ]
        return [NON_PII, FREE_TEXT, *pii]

    def schema_version(self, topic: str) -> int | None:
        versions = []
        for record in self._named("avro_schema", f"{topic}-value.v", f"@{self.cluster}"):
            number = record.row.qualified_name.removeprefix(f"{topic}-value.v").removesuffix(f"@{self.cluster}")
            if number.isdigit():
                versions.append(int(number))
        return max(versions, default=None)

    def field_records(self, topic: str) -> dict[str, EntityRecord]:
        """The topic's avro_field entities by field path (`<topic>.<path>@<cluster>`)."""
        found = {}
        for record in self._named("avro_field", f"{topic}.", f"@{self.cluster}"):
            path = record.row.qualified_name[len(topic) + 1 : -len(self.cluster) - 1]
            found[path] = record
        return found

    def pipeline(self, domain: str) -> Pipeline | None:
        record = self.entity(PIPELINE_TYPE, f"deid-pipeline-{domain}@{self.cluster}")
        if record is None:
            return None
        rendered, _ = self.reader.render([record])[0]
        relations = rendered.get("relationshipAttributes") or {}

        def names(items: Any) -> list[str]:
            return [str(i.get("displayText") or i.get("guid")) for i in (items or []) if isinstance(i, dict)]

        return Pipeline(
            record.row.qualified_name,
            record.attributes,
            names(relations.get("inputs")),
            names(relations.get("outputs")),
        )

    def topic(self, domain: Domain, *, with_fields: bool = True) -> Topic:
        policies = self.ctx.policies
        versions = policies.versions(domain.name)
        draft = policies.get_draft(domain.name)
        rows = self.fields(domain, draft) if with_fields else []
        latest = versions[-1] if versions else None
        return Topic(
            domain=domain,
            fields=rows,
            schema_version=self.schema_version(domain.raw_topic),
            topic_known=self.entity("kafka_topic", f"{domain.raw_topic}@{self.cluster}") is not None,
            published_version=latest.policy.version if latest else None,
            published_by=latest.published_by if latest else None,
            published_at=latest.published_at if latest else None,
            has_draft=draft is not None,
            pipeline=self.pipeline(domain.name),
        )

    def fields(self, domain: Domain, draft: Any) -> list[FieldRow]:
        records = self.field_records(domain.raw_topic)
        tags = ClassificationRepo(self.session).of_entities([r.guid for r in records.values()])
        rules = draft.policy.to_document()["rules"] if draft is not None else {}
        stewards = set(draft.steward_paths) if draft is not None else set()
        order = list(domain.fields) + sorted(p for p in records if p not in domain.fields)
        rows = []
        for path in order:
            record = records.get(path)
            spec = domain.fields.get(path)
            classifications = (
                [render_classification(c, "ACTIVE", self.registry) for c in tags.get(record.guid, [])] if record else []
            )
            avro_type = _avro_type(record) if record else None
            field_type = spec.type if spec else _AVRO_FIELD_TYPES.get(avro_type or "")
            rows.append(
                FieldRow(
                    path=path,
                    avro_type=avro_type or (spec.type if spec else "?"),
                    field_type=field_type,
                    tag=effective_tag(classifications),
                    guid=record.guid if record else None,
                    qualified_name=record.row.qualified_name if record else None,
                    classifications=classifications,
                    rule=rules.get(path),
                    steward_rule=path in stewards,
                    in_domain=spec is not None,
                )
            )
        return rows


def _avro_type(record: EntityRecord) -> str | None:
    value = record.attributes.get("type")
    if isinstance(value, str):
        return value
    return None


def rule_summary(rule: dict[str, Any] | None) -> str:
    """`mask (length=16)` / `consent ≥1: keep / redact` for tables and diffs."""
    if rule is None:
        return "(none: dropped)"
    if "with_consent" in rule:
        level = rule.get("min_consent_level", 1)
        return f"consent ≥{level}: {rule_summary(rule['with_consent'])} / {rule_summary(rule['without_consent'])}"
    params = rule.get("params") or {}
    shown = ", ".join(f"{k}={_short(v)}" for k, v in sorted(params.items()))
    text = f"{rule.get('treatment')}" + (f" ({shown})" if shown else "")
    exemption = rule.get("exemption")
    if isinstance(exemption, dict):  # a PII field kept in clear: show why and who allowed it
        text += f" [exempt: {_short(exemption.get('reason'))} by {exemption.get('by') or '?'}]"
    return text


def _short(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


_EXAMPLE = re.compile(r"^[\w*@.\- ]{0,64}$")


def safe_examples(evidence: dict[str, Any]) -> list[str]:
    """Masked examples from the evidence (at most 3, short); anything that does not look masked is hidden."""
    shown = []
    for example in (evidence.get("examples") or [])[:3]:
        text = str(example)
        shown.append(text if "*" in text and _EXAMPLE.match(text) else "(hidden)")
    return shown
