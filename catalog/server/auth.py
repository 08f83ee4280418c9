"""Who is calling: pluggable authenticators (HTTP Basic, as Atlas; the steward UI adds a session
cookie) and role checks as FastAPI dependencies.

An authenticator returns the Principal, None when the request does not carry its kind of
credentials, or raises 401 when it carries wrong ones.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Protocol

from fastapi import Depends, Request

from catalog.server.errors import AtlasError, Code
from catalog.server.users import Principal, Role, UserService

REALM = 'Basic realm="deid-catalog"'


class Authenticator(Protocol):
    def __call__(self, request: Request) -> Principal | None: ...


def unauthenticated(reason: str) -> AtlasError:
    return AtlasError(Code.UNAUTHENTICATED, reason, headers={"WWW-Authenticate": REALM})


class BasicAuthenticator:
    def __init__(self, users: UserService) -> None:
        self.users = users

    def __call__(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization")
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthenticated("malformed Basic credentials") from None
        name, separator, password = decoded.partition(":")
        if not separator or not name:
            raise unauthenticated("malformed Basic credentials")
        principal = self.users.login(name, password, client_address(request), "basic")
        if principal is None:
            raise unauthenticated("wrong user name or password")
        return principal


def client_address(request: Request) -> str:
    """The peer's address (a proxy's X-Forwarded-For is not trusted: anyone could set it)."""
    return request.client.host if request.client else "unknown"


def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    for authenticator in request.app.state.authenticators:
        principal = authenticator(request)
        if principal is not None:
            request.state.principal = principal
            return principal
    raise unauthenticated("use HTTP Basic authentication")


def require(role: Role) -> Callable[..., Principal]:
    """Dependency: the caller, who must hold `role` or a higher one (403 otherwise)."""

    def dependency(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        if not principal.may(role):
            route = request.scope.get("route")
            action = f"{request.method} {getattr(route, 'path', request.url.path)}"
            raise AtlasError(Code.UNAUTHORIZED_ACCESS, f"{principal.name} (role {principal.role})", action)
        return principal

    return dependency


Viewer = Depends(require("viewer"))
Steward = Depends(require("steward"))
Admin = Depends(require("admin"))
