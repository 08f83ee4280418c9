"""schema_inference: the Spark inference job (see docs/architecture.md, "Rooms" and "The data's way")."""
