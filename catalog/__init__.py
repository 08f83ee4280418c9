"""catalog: the catalog service, its UI and the client others use (see docs/architecture.md, "Rooms")."""
