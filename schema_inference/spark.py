"""The one way to get a SparkSession for deid: loopback-bound, quiet, with the Kafka connector jars that
scripts/install-spark-kafka put in the data dir (no Ivy resolution at run time)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deid.errors import ConfigError
from deid.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONNECTOR_PREFIX = "spark-sql-kafka-0-10_"


def connector_jars(settings: Settings) -> list[Path]:
    """The connector jars for the installed pyspark, or a ConfigError saying how to install them."""
    import pyspark

    jars_dir = settings.spark_jars_dir
    assert jars_dir is not None  # resolved by Settings
    installed = (jars_dir / "VERSION").read_text().strip() if (jars_dir / "VERSION").exists() else None
    if installed != pyspark.__version__:
        found = f"version {installed}" if installed else "nothing"
        raise ConfigError(
            f"the Spark Kafka connector for pyspark {pyspark.__version__} is not installed in {jars_dir} "
            f"(found {found}); run scripts/install-spark-kafka (or set DEID_SPARK_JARS_DIR)"
        )
    jars = sorted(jars_dir.glob("*.jar"))
    if not any(jar.name.startswith(CONNECTOR_PREFIX) for jar in jars):
        raise ConfigError(f"{jars_dir} has no {CONNECTOR_PREFIX}*.jar; run scripts/install-spark-kafka --force")
    return jars


def spark_session(settings: Settings, master: str | None = None, app_name: str = "deid") -> SparkSession:
    """A SparkSession on `master` (default: settings.spark_master) that can read Kafka topics."""
    jars = connector_jars(settings)
    # The driver binds to loopback (machines whose hostname does not resolve to an open interface), unless
    # executors on other hosts must reach it (a compose cluster): then it listens everywhere.
    driver_host = settings.spark_driver_host or "127.0.0.1"
    bind_address = "0.0.0.0" if settings.spark_driver_host else "127.0.0.1"
    if not settings.spark_driver_host:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Under spark-submit the launcher's --master (and --conf) are in force unless the user names a master.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    master = master or (None if submitted else settings.spark_master)
    if master is not None and master.startswith("local"):
        # Local Python workers run deid's own code: they need this interpreter (the venv), not `python3`.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder if master is None else SparkSession.builder.master(master)
    builder = (
        builder.appName(app_name)
        .config("spark.jars", ",".join(str(jar) for jar in jars))
        .config("spark.driver.host", driver_host)
        .config("spark.driver.bindAddress", bind_address)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.python.worker.reuse", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
