"""A real HTTP server for registry tests: uvicorn on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from catalog.registry.router import SchemaRegisteredHook
from catalog.registry.standalone import create_app
from deid.stack.process import free_port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` on 127.0.0.1; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serve_registry(db_file: Path, on_schema_registered: SchemaRegisteredHook | None = None) -> Iterator[str]:
    """The standalone registry on an SQLite file; yields the registry URL (…/registry)."""
    with serve(create_app(f"sqlite:///{db_file}", on_schema_registered)) as base:
        yield f"{base}/registry"
