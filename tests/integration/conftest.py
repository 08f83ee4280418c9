"""Integration fixtures: one Spark local[2] session for every test that needs Spark (a JVM start costs
seconds; the session is stopped when the test session ends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deid.settings import Settings
from schema_inference.spark import spark_session
from tests.conftest import REPO
from tests.integration.pipeline_support import registry


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # No broker needed to start Spark (batch tests use none); Kafka tests ask for `kafka` themselves.
    settings = Settings(data_dir=tmp_path_factory.mktemp("spark"), spark_jars_dir=REPO / ".deid" / "spark-jars")
    session = spark_session(settings, "local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real schema registry (the catalog's /registry API) for one test module."""
    with registry(tmp_path_factory.mktemp("registry")) as url:
        yield url
