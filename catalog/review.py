"""Review of a topic's field tags through the catalog API: list each field with its effective tag, and
confirm suggestions at or above a confidence (`deid policy approve`, the demo). Confirming keeps the
tag's entity, confidence and evidence and sets `status: confirmed`; the server audits it as the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.client import CatalogClient
from catalog.payloads import criterion
from catalog.tags import EffectiveTag, effective_tag

FIELD_TYPE = "avro_field"


@dataclass(frozen=True)
class FieldTag:
    path: str
    guid: str
    tag: EffectiveTag
    classifications: list[dict[str, Any]]


def raw_topic_of(domain: str) -> str:
    return f"{domain}-raw-data"


def topic_fields(client: CatalogClient, topic: str, cluster: str) -> list[FieldTag]:
    """The topic's fields (`avro_field` `<topic>.<path>@<cluster>`), by path, with their effective tags."""
    prefix, suffix = f"{topic}.", f"@{cluster}"
    found = client.search_all(
        type_name=FIELD_TYPE, entity_filters=criterion("qualifiedName", "startsWith", prefix), attributes=["name"]
    )
    fields = []
    for header in found:
        qualified = header["attributes"].get("qualifiedName") or ""
        if not qualified.endswith(suffix):
            continue
        path = qualified[len(prefix) : -len(suffix)]
        classifications = header.get("classifications") or []
        fields.append(FieldTag(path, header["guid"], effective_tag(classifications), classifications))
    return sorted(fields, key=lambda f: f.path)


def approve_suggestions(client: CatalogClient, domain: str, cluster: str, min_confidence: float) -> list[str]:
    """Confirm each field's suggested tag whose confidence is at least `min_confidence`; the paths confirmed.
    Tags a steward already decided, and suggestions below the bar, are left for review."""
    confirmed = []
    for field in topic_fields(client, raw_topic_of(domain), cluster):
        tag = field.tag
        if tag.status != "suggested" or tag.confidence < min_confidence:
            continue
        current = next(c for c in field.classifications if c["typeName"] == tag.entity)
        attributes = {**(current.get("attributes") or {}), "status": "confirmed"}
        client.update_classifications(field.guid, [{"typeName": tag.entity, "attributes": attributes}])
        confirmed.append(field.path)
    return confirmed
