"""recognizers: see DESIGN.md layout."""
