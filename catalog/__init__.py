"""catalog: see DESIGN.md layout."""
