"""Integration fixtures: one Spark local[2] session for every test that needs Spark (a JVM start costs
seconds; the session is stopped when the test session ends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from schema_inference.spark import spark_session
from tests.conftest import REPO, Broker


@pytest.fixture(scope="session")
def spark(kafka: Broker) -> Iterator[Any]:
    session = spark_session(
        kafka.settings.model_copy(update={"spark_jars_dir": REPO / ".deid" / "spark-jars"}), "local[2]"
    )
    yield session
    session.stop()
