"""pipelines: the de-identification engine (see docs/architecture.md, "Rooms" and "The data's way")."""
