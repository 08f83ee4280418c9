"""The Confluent-compatible Schema Registry served by the catalog under `/registry`.

- `avro_schema`: validation and the normalised form that decides "the same schema" (same id).
- `compatibility`: Avro reader/writer resolution rules and Confluent's compatibility levels.
- `tables` / `store`: the registry's own tables (own `MetaData`) and `SqlRegistryStore` on the catalog's DB.
- `service`: Confluent's rules per call; `router`: the REST API and `mount_registry(app, store, auth=…,
  on_schema_registered=…)`, the one call the catalog makes to serve it.
- `standalone`: a registry-only app for the registry's tests.
"""
