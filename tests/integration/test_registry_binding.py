"""How the catalog binds the registry: auth by access level (viewer reads, steward writes), failing closed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from sqlalchemy import create_engine

from catalog.registry.router import Access, mount_registry, required_access, router
from catalog.registry.store import SqlRegistryStore
from catalog.registry.tables import create_tables
from tests.integration.registry_server import serve

SCHEMA = Schema('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}', "AVRO")
PASSWORDS = {"viewer": secrets.token_hex(8), "steward": secrets.token_hex(8)}
basic = HTTPBasic(auto_error=False)


def basic_auth_by_role(
    access: Annotated[Access, Depends(required_access)],
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
) -> None:
    """What the catalog's binding looks like: Basic auth, viewer may read, steward may also write."""
    if credentials is None or PASSWORDS.get(credentials.username) != credentials.password:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Basic"})
    if access is Access.WRITE and credentials.username != "steward":
        raise HTTPException(403, "the steward role is required")


@pytest.fixture
def store(tmp_path: Path) -> SqlRegistryStore:
    engine = create_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    create_tables(engine)
    return SqlRegistryStore(engine)


@pytest.fixture
def guarded_url(store: SqlRegistryStore) -> Iterator[str]:
    app = FastAPI()
    mount_registry(app, store, auth=basic_auth_by_role)
    with serve(app) as base:
        yield f"{base}/registry"


def client(url: str, user: str | None) -> SchemaRegistryClient:
    config = {"url": url}
    if user:
        config["basic.auth.user.info"] = f"{user}:{PASSWORDS[user]}"
    return SchemaRegistryClient(config)


def test_viewer_reads_steward_writes(guarded_url: str) -> None:
    steward, viewer = client(guarded_url, "steward"), client(guarded_url, "viewer")
    schema_id = steward.register_schema("auth-value", SCHEMA)
    assert viewer.get_subjects() == ["auth-value"]
    assert viewer.get_schema(schema_id).schema_str
    assert viewer.lookup_schema("auth-value", SCHEMA).version == 1  # a POST that only reads
    assert viewer.test_compatibility("auth-value", SCHEMA) is True

    for write in (
        lambda: viewer.register_schema("other-value", SCHEMA),
        lambda: viewer.set_compatibility("auth-value", "NONE"),
        lambda: viewer.delete_subject("auth-value"),
    ):
        with pytest.raises(SchemaRegistryError) as caught:
            write()
        assert (caught.value.http_status_code, caught.value.error_code) == (403, 403)
    assert steward.set_compatibility("auth-value", "NONE") == {"compatibility": "NONE"}


def test_no_credentials_is_401_in_confluent_shape(guarded_url: str) -> None:
    response = requests.get(f"{guarded_url}/subjects", timeout=30)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Basic"
    assert response.json() == {"error_code": 401, "message": "authentication required"}


def test_unbound_auth_fails_closed(store: SqlRegistryStore) -> None:
    app = FastAPI()
    app.state.registry_store = store
    app.include_router(router, prefix="/registry")  # mounted without mount_registry's auth binding
    with serve(app) as base:
        response = requests.get(f"{base}/registry/subjects", timeout=30)
    assert response.status_code == 403 and response.json()["error_code"] == 40301
