"""The embedded single-node Apache Kafka broker (KRaft), run from the jars `scripts/install-kafka` put
in the data dir."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException

from deid.kafka import make_admin
from deid.settings import Settings
from deid.stack.process import ManagedProcess, StackError, port_in_use, tail_lines

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIN_JAVA = 17


def find_java() -> str:
    """The java executable (JAVA_HOME first), checked to be Java 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise StackError(
            f"Java {MIN_JAVA}+ is needed to run Kafka but no `java` was found; "
            "install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME"
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise StackError(f"Kafka needs Java {MIN_JAVA}+, but {java} is Java {major or 'of unknown version'}")
    return java


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka makes them: URL-safe base64 of a random UUID, never starting with
    '-' (the storage tool would read such an id as an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class EmbeddedKafka:
    settings: Settings
    overrides: Mapping[str, str] = field(default_factory=dict)
    """Broker properties that replace the defaults below (benchmarks: Kafka's own group join delay)."""

    name = "kafka"

    @property
    def home(self) -> Path:
        return self.settings.kafka_install_dir.resolve()

    @property
    def state_dir(self) -> Path:
        return (self.settings.data_dir / "kafka-broker").resolve()

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("kafka", self.state_dir, marker=f"{self.state_dir}/server.properties")

    @property
    def address(self) -> tuple[str, int]:
        return self.settings.embedded_broker_address

    def describe(self) -> str:
        host, port = self.address
        return f"{host}:{port}"

    def _check_installed(self) -> None:
        if not (self.home / "VERSION").is_file() or not any((self.home / "libs").glob("kafka_*.jar")):
            raise StackError(f"Kafka is not installed in {self.home}; run scripts/install-kafka")

    def _check_address(self) -> None:
        host, _ = self.address
        if host not in _LOOPBACK:
            raise StackError(
                f"DEID_KAFKA_BOOTSTRAP points at {host}, but the embedded broker only listens on loopback; "
                "use 127.0.0.1:PORT, or run against your own cluster without `deid stack up`"
            )

    def _write_config(self) -> Path:
        host, port = self.address
        cport = self.settings.kafka_controller_port
        data = self.state_dir / "data"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{host}:{cport}",
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(data),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "false",
            # A single node: internal topics (offsets, transactions) must fit one replica for
            # consumer groups and exactly-once transactions to work.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
            **self.overrides,
        }
        path = self.state_dir / "server.properties"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        return path

    def _java_command(self, java: str, main_class: str, *args: str) -> list[str]:
        return [
            java,
            f"-Xmx{self.settings.kafka_heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-Djava.awt.headless=true",
            self._log_option(),
            f"-Dkafka.logs.dir={self.state_dir / 'logs'}",
            "-cp",
            f"{self.home / 'libs'}/*",
            main_class,
            *args,
        ]

    def _log_option(self) -> str:
        """Kafka 4 logs through log4j2; a Kafka 3.x install (`--version 3.9.1`) through reload4j."""
        log4j2 = self.home / "config" / "log4j2.yaml"
        if log4j2.is_file():
            return f"-Dlog4j2.configurationFile={log4j2}"
        return f"-Dlog4j.configuration=file:{self.home / 'config' / 'log4j.properties'}"

    def _format_storage(self, java: str, config: Path) -> None:
        if (self.state_dir / "data" / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        result = subprocess.run(
            self._java_command(
                java, "kafka.tools.StorageTool", "format", "--cluster-id", cluster_id, "-c", str(config)
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"formatting Kafka storage in {self.state_dir / 'data'} failed:\n"
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def running(self) -> bool:
        return self.process.pid() is not None

    def start(self, timeout: float = 90.0) -> str:
        """Start (idempotently) and wait until the broker answers. Returns a one-line status."""
        self._check_address()
        process = self.process
        if process.pid() is not None:
            self.wait_ready(timeout)
            return f"already running on {self.describe()} (pid {process.pid()})"
        host, port = self.address
        for busy in (port, self.settings.kafka_controller_port):
            if port_in_use(host, busy):
                raise StackError(
                    f"port {busy} on {host} is already in use by another process; stop it, or choose other "
                    "ports with DEID_KAFKA_BOOTSTRAP / DEID_KAFKA_CONTROLLER_PORT"
                )
        java = find_java()
        self._check_installed()
        config = self._write_config()
        self._format_storage(java, config)
        pid = process.start(self._java_command(java, "kafka.Kafka", str(config)))
        self.wait_ready(timeout)
        return f"started on {self.describe()} (pid {pid}, log {process.log_file})"

    def wait_ready(self, timeout: float) -> None:
        admin = make_admin(self.settings, "raw", **{"socket.connection.setup.timeout.ms": 2000})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.pid() is None:
                raise StackError(
                    f"Kafka exited during start; see {self.process.log_file}:\n{tail_lines(self.process.log_file)}"
                )
            try:
                admin.list_topics(timeout=2)
                return
            except KafkaException:
                time.sleep(0.5)
        raise StackError(f"Kafka did not answer on {self.describe()} within {timeout:g}s; see {self.process.log_file}")

    def stop(self) -> str:
        return "stopped" if self.process.stop(timeout=60) else "was not running"

    def status(self) -> tuple[bool, str]:
        pid = self.process.pid()
        if pid is None:
            return False, "not running"
        return True, f"running on {self.describe()} (pid {pid}, log {self.process.log_file})"
