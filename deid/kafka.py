"""The one Kafka client factory: every producer, consumer and admin client in deid comes from here.

A client is built for a side: `raw` (where raw events live) or `out` (where anonymised events go,
possibly another cluster). Extra properties from the config file (`kafka_properties`, and
`kafka_properties_out` for the out side) pass through unchanged, so secured clusters work.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from deid.credentials import catalog_credentials
from deid.errors import ConfigError, KafkaUnavailableError
from deid.settings import Settings

if TYPE_CHECKING:  # the registry client pulls in httpx; imported when first used
    from confluent_kafka.schema_registry import SchemaRegistryClient

Side = Literal["raw", "out"]


class _DemoteSelfHealing(logging.Filter):
    """librdkafka warnings that end in "retrying" heal themselves (e.g. a coordinator still loading
    right after a broker start); they go to DEBUG. If they never heal, the caller's timeout reports it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.getMessage().rstrip().endswith("retrying"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


# librdkafka's own log lines go through Python logging (and so to stderr), not straight to fd 2.
_LIBRDKAFKA_LOG = logging.getLogger("deid.librdkafka")
_LIBRDKAFKA_LOG.addFilter(_DemoteSelfHealing())


def client_config(settings: Settings, side: Side = "raw", **overrides: Any) -> dict[str, Any]:
    """The librdkafka configuration for one side: bootstrap, pass-through properties, overrides."""
    if side not in ("raw", "out"):
        raise ValueError(f"side must be 'raw' or 'out', not {side!r}")
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap if side == "raw" else settings.bootstrap_out,
        "logger": _LIBRDKAFKA_LOG,
    }
    config.update(settings.kafka_properties)
    if side == "out":
        config.update(settings.kafka_properties_out)
    config.update(overrides)
    return config


def make_producer(settings: Settings, side: Side = "raw", **overrides: Any) -> Producer:
    return Producer(client_config(settings, side, **overrides))


def make_consumer(settings: Settings, group_id: str, side: Side = "raw", **overrides: Any) -> Consumer:
    defaults: dict[str, Any] = {"group.id": group_id, "enable.auto.commit": False}
    return Consumer(client_config(settings, side, **{**defaults, **overrides}))


def make_admin(settings: Settings, side: Side = "raw", **overrides: Any) -> AdminClient:
    return AdminClient(client_config(settings, side, **overrides))


def reachable_admin(settings: Settings, side: Side = "raw", timeout: float = 10.0) -> AdminClient:
    """An admin client for `side`, or KafkaUnavailableError within `timeout` s naming the bootstrap servers."""
    admin = make_admin(settings, side)
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        servers = settings.kafka_bootstrap if side == "raw" else settings.bootstrap_out
        variable = "DEID_KAFKA_BOOTSTRAP" if side == "raw" else "DEID_KAFKA_BOOTSTRAP_OUT"
        raise KafkaUnavailableError(
            f"Kafka at {servers} ({variable}) did not answer within {timeout:g}s "
            f"({exc.args[0].name() if exc.args else 'no response'}); "
            "start the embedded broker with `deid stack up` or point the variable at a running cluster"
        ) from None
    return admin


def make_registry_client(settings: Settings, **overrides: Any) -> SchemaRegistryClient:
    """A Schema Registry client for `settings.registry_url` (the catalog's /registry unless
    DEID_SCHEMA_REGISTRY_URL is set; credentials may ride in the URL as user:password@host)."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    # The HTTP client logs every request URL at INFO, credentials in the URL included: keep it to warnings.
    for name in ("httpx", "httpx2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    config: dict[str, Any] = {
        "url": settings.registry_url,
        "timeout": 10,
        "max.retries": 1,  # callers report an unreachable registry quickly rather than stall
        "retries.wait.ms": 200,
        "retries.max.wait.ms": 1000,
    }
    if settings.schema_registry_url is None:  # the catalog's own registry: the catalog's users and roles
        try:
            user, password = catalog_credentials(settings)
            config["basic.auth.user.info"] = f"{user}:{password}"
        except ConfigError:
            pass  # no credentials known here: the registry answers 401, which callers report
    config.update(overrides)
    return SchemaRegistryClient(config)
