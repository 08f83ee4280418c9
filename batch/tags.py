"""The catalog's PII tags of a domain's fields, for the region guard (the same rule as publish validation:
a field whose effective tag is not NON_PII holds personal data, suggested or confirmed). Batch files of a
domain share the domain's field entities (`<raw topic>.<path>@<cluster>`), so stream and batch agree."""

from __future__ import annotations

from catalog.client import CatalogClient
from catalog.tags import effective_tag


def pii_tags(client: CatalogClient, topic: str, cluster: str) -> dict[str, str] | None:
    """Field path → PII entity; None when the catalog knows no field of the topic (tags unknown: fail closed)."""
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
