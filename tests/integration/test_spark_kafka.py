"""Spark reads a real Kafka topic with the connector jars from Maven Central (no Ivy at run time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deid.errors import ConfigError
from deid.kafka import make_producer
from deid.settings import Settings
from schema_inference.spark import connector_jars
from tests.conftest import Broker

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
JARS = REPO / ".deid" / "spark-jars"


def test_spark_reads_every_record_of_a_topic(kafka: Broker, spark: object) -> None:
    producer = make_producer(kafka.settings)
    topic = kafka.new_topic(partitions=3)
    for index in range(250):
        producer.produce(topic, key=f"user-{index % 7}", value=json.dumps({"n": index}).encode())
    assert producer.flush(30) == 0

    frame = (
        spark.read.format("kafka")  # type: ignore[attr-defined]
        .option("kafka.bootstrap.servers", kafka.bootstrap)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
    values = sorted(json.loads(row.value)["n"] for row in frame.select("value").collect())
    assert values == list(range(250))


def test_missing_connector_is_a_config_error_naming_the_install_script(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="scripts/install-spark-kafka"):
        connector_jars(settings)
