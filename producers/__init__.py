"""producers: see DESIGN.md layout."""
