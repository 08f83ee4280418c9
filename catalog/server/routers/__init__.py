"""One router per resource; `catalog.server.app.ROUTERS` mounts them in order."""
