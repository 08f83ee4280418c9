"""One router per page of the steward UI (mounted by `catalog.ui.mount`)."""
