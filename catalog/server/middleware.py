"""ASGI middleware of the catalog app: a request body size limit (413) and security headers.

Both are plain ASGI (no BaseHTTPMiddleware), so they cost one wrapper call per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

# Atlas's shape on the Atlas API and the UI; Confluent's on the Schema Registry API.
_REGISTRY_PREFIX = "/registry"
_STATIC_PREFIX = "/static/"
SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)


def too_large_message(received: int, limit: int) -> str:
    return (
        f"Request body of {received} bytes exceeds the limit of {limit} bytes "
        "(DEID_CATALOG_MAX_REQUEST_MB); split the request, e.g. bulk writes into several requests"
    )


class _TooLarge(StarletteHTTPException):
    """Raised from `receive`: FastAPI passes HTTP exceptions on, so the app's handlers render the 413
    in the shape of the API (Atlas's or Confluent's)."""

    def __init__(self, received: int, limit: int) -> None:
        super().__init__(413, too_large_message(received, limit))
        self.received = received


def _too_large_body(path: str, received: int, limit: int) -> bytes:
    message = too_large_message(received, limit)
    if path.startswith(_REGISTRY_PREFIX):
        return json.dumps({"error_code": 413, "message": message}).encode()
    return json.dumps({"errorCode": "ATLAS-413-00-001", "errorMessage": message}).encode()


class BodyLimit:
    """Answer 413 to a body over `max_bytes`: at once when Content-Length says so, else as it streams in."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(received, self.max_bytes)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, received)

    async def _refuse(self, scope: dict[str, Any], send: Any, received: int) -> None:
        body = _too_large_body(scope["path"], received, self.max_bytes)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": [*headers, *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """X-Frame-Options: DENY, nosniff and Cache-Control: no-store on every response but static assets
    (authenticated answers carry catalog data and must not be framed or cached)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_STATIC_PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers") or []}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": [*(message.get("headers") or []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class ShutdownAnswer:
    """A request cut off by shutdown (uvicorn cancels what outlives the grace period) is answered
    503 with Retry-After, not a bare 500: the client should retry against the next server."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not started:
                message = "the catalog is shutting down; retry the request"
                body = json.dumps({"errorCode": "ATLAS-503-00-001", "errorMessage": message}).encode()
                headers = [(b"content-type", b"application/json"), (b"retry-after", b"5"), (b"connection", b"close")]
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.start", "status": 503, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
            raise
