"""Fixtures the unit tests share."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from deid.settings import Settings
from pipelines.keys import Keystore, LocalKeystore


@pytest.fixture(scope="module")
def keystore() -> Iterator[Keystore]:
    """A local keystore of its own per test module (fresh master key, temporary data dir)."""
    with tempfile.TemporaryDirectory() as data_dir:
        store = LocalKeystore.open(Settings(data_dir=Path(data_dir), master_key=Fernet.generate_key().decode()))
        yield store
        store.close()
