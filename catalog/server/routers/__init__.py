"""One router per resource; `catalog.server.app.ROUTERS` lists them with their mount prefixes."""
