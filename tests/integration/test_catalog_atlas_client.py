"""Apache Atlas's own Python client (`apache-atlas` on PyPI) drives the catalog: typedefs, entities
with relationships, classifications, search, lookups by unique attribute, lineage and audit."""

from __future__ import annotations

import uuid

import pytest
from apache_atlas.client.base_client import AtlasClient
from apache_atlas.exceptions import AtlasServiceException
from apache_atlas.model.discovery import SearchParameters
from apache_atlas.model.instance import (
    AtlasClassification,
    AtlasEntitiesWithExtInfo,
    AtlasEntity,
    AtlasEntityWithExtInfo,
    AtlasObjectId,
)
from apache_atlas.model.misc import SearchFilter
from apache_atlas.model.typedef import (
    AtlasAttributeDef,
    AtlasClassificationDef,
    AtlasEntityDef,
    AtlasRelationshipDef,
    AtlasRelationshipEndDef,
    AtlasTypesDef,
)

from tests.catalog_support import CatalogServer


@pytest.fixture
def atlas(catalog: CatalogServer) -> AtlasClient:
    return AtlasClient(catalog.url, catalog.credentials("admin"))


def _typedefs(suffix: str) -> AtlasTypesDef:
    table, column, link, tag = (
        f"t_table_{suffix}",
        f"t_column_{suffix}",
        f"t_table_columns_{suffix}",
        f"T_SENSITIVE_{suffix}",
    )
    return AtlasTypesDef(
        {
            "entityDefs": [
                AtlasEntityDef({"name": table, "superTypes": ["DataSet"], "attributeDefs": [
                    AtlasAttributeDef({"name": "rows", "typeName": "long", "isOptional": True,
                                       "cardinality": "SINGLE"})]}),
                AtlasEntityDef({"name": column, "superTypes": ["DataSet"], "attributeDefs": [
                    AtlasAttributeDef({"name": "dataType", "typeName": "string", "isOptional": True,
                                       "cardinality": "SINGLE"})]}),
            ],
            "relationshipDefs": [
                AtlasRelationshipDef({
                    "name": link, "relationshipCategory": "COMPOSITION", "propagateTags": "NONE",
                    "endDef1": AtlasRelationshipEndDef({"type": table, "name": "columns", "isContainer": True,
                                                        "cardinality": "SET"}),
                    "endDef2": AtlasRelationshipEndDef({"type": column, "name": "table", "isContainer": False,
                                                        "cardinality": "SINGLE"}),
                }),
            ],
            "classificationDefs": [
                AtlasClassificationDef({"name": tag, "superTypes": ["deid_PII"], "attributeDefs": []}),
            ],
        }
    )  # fmt: skip


def test_official_atlas_client_round_trip(atlas: AtlasClient) -> None:
    suffix = uuid.uuid4().hex[:8]
    table, column, tag = f"t_table_{suffix}", f"t_column_{suffix}", f"T_SENSITIVE_{suffix}"

    created = atlas.typedef.create_atlas_typedefs(_typedefs(suffix))
    assert {d.name for d in created.entityDefs} == {table, column}
    entity_def = atlas.typedef.get_entitydef_by_name(table)
    assert entity_def.superTypes == ["DataSet"] and "rows" in {a.name for a in entity_def.attributeDefs}
    assert atlas.typedef.get_classificationdef_by_name(tag).superTypes == ["deid_PII"]
    assert atlas.typedef.type_with_name_exists(column) and not atlas.typedef.type_with_name_exists("nope_nope")
    all_defs = atlas.typedef.get_all_typedefs(SearchFilter({"params": {"type": "entity"}}))
    assert table in {d.name for d in all_defs.entityDefs}
    with pytest.raises(AtlasServiceException, match="409"):
        atlas.typedef.create_atlas_typedefs(_typedefs(suffix))

    # A table with two columns, linked by relationship attributes that name placeholder guids.
    table_entity = AtlasEntity({"typeName": table})
    table_entity.attributes = {"qualifiedName": f"db.{table}@eu", "name": table, "rows": 42}
    columns = []
    for name in ("email", "city"):
        col = AtlasEntity({"typeName": column})
        col.attributes = {"qualifiedName": f"db.{table}.{name}@eu", "name": name, "dataType": "string"}
        col.relationshipAttributes = {"table": AtlasObjectId({"guid": table_entity.guid, "typeName": table})}
        columns.append(col)
    bulk = AtlasEntitiesWithExtInfo()
    bulk.entities = [table_entity, *columns]
    response = atlas.entity.create_entities(bulk)
    assert len(response.mutatedEntities["CREATE"]) == 3
    table_guid = response.get_assigned_guid(table_entity.guid)
    email_guid = response.get_assigned_guid(columns[0].guid)
    assert table_guid and email_guid

    fetched = atlas.entity.get_entity_by_guid(table_guid)
    assert fetched.entity.attributes["rows"] == 42
    assert {c["displayText"] for c in fetched.entity.relationshipAttributes["columns"]} == {"email", "city"}
    assert email_guid in fetched.referredEntities
    by_name = atlas.entity.get_entity_by_attribute(column, {"qualifiedName": f"db.{table}.email@eu"})
    assert by_name.entity.guid == email_guid
    assert by_name.entity.relationshipAttributes["table"]["guid"] == table_guid
    header = atlas.entity.get_entity_header_by_guid(email_guid)
    assert header.displayText == "email"

    # Update through the client's single-entity call: same guid, new attribute value.
    table_entity.guid = table_guid
    table_entity.attributes["rows"] = 43
    update = AtlasEntityWithExtInfo()
    update.entity = table_entity
    updated = atlas.entity.update_entity(update)
    assert updated.mutatedEntities["UPDATE"][0].guid == table_guid

    # Classifications: add, read, bulk add, remove.
    atlas.entity.add_classifications_by_guid(
        email_guid, [AtlasClassification({"typeName": "EMAIL_ADDRESS", "attributes": {"confidence": 0.9}})]
    )
    names = [c.typeName for c in atlas.entity.get_classifications(email_guid).list]
    assert names == ["EMAIL_ADDRESS"]
    atlas.entity.add_classification(
        {"classification": AtlasClassification({"typeName": tag}), "entityGuids": [email_guid, table_guid]}
    )
    assert {c.typeName for c in atlas.entity.get_classifications(email_guid).list} == {"EMAIL_ADDRESS", tag}
    atlas.entity.update_classifications(
        email_guid, [AtlasClassification({"typeName": "EMAIL_ADDRESS", "attributes": {"status": "confirmed"}})]
    )
    atlas.entity.delete_classification(email_guid, tag)
    assert [c.typeName for c in atlas.entity.get_classifications(email_guid).list] == ["EMAIL_ADDRESS"]

    # Search: basic (GET), faceted (POST) with subclassifications, DSL.
    basic = atlas.discovery.basic_search(column, None, table, True)
    assert {e.attributes["name"] for e in basic.entities} == {"email", "city"}
    params = SearchParameters({"typeName": column, "classification": "PII", "excludeDeletedEntities": True})
    params.query = table
    faceted = atlas.discovery.faceted_search(params)
    assert [e.guid for e in faceted.entities] == [email_guid]
    assert faceted.entities[0].classificationNames == ["EMAIL_ADDRESS"]
    dsl = atlas.discovery.dsl_search_with_params(f'{column} where name = "city"', 10, 0)
    assert [e.attributes["name"] for e in dsl.entities] == ["city"]

    lineage = atlas.lineage.get_lineage_info(table_guid, "BOTH", 3)
    assert lineage.baseEntityGuid == table_guid and lineage.relations == []
    events = atlas.entity.get_audit_events(email_guid, None, None, 10)
    assert "CLASSIFICATION_ADD" in {e["action"] for e in events}

    # Deleting the table cascades to its columns (COMPOSITION).
    deleted = atlas.entity.delete_entity_by_guid(table_guid)
    assert {h.guid for h in deleted.mutatedEntities["DELETE"]} >= {table_guid, email_guid}
    with pytest.raises(AtlasServiceException, match="404"):
        atlas.entity.get_entity_by_attribute(column, {"qualifiedName": f"db.{table}.email@eu"})
    with pytest.raises(AtlasServiceException, match="ATLAS-404-00-001"):
        atlas.typedef.get_entitydef_by_name("no_such_type")
