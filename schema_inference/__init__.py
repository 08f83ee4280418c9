"""schema_inference: see DESIGN.md layout."""
