"""pipelines: see DESIGN.md layout."""
