"""The re-identification risk of what an anonymised topic holds now: its last records' quasi-identifiers
read back (Avro through the registry), measured by `pipelines.risk` (`deid risk`, the demo's summary)."""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Message

from deid.domains import Domain
from deid.errors import ConfigError
from deid.kafka import make_registry_client
from deid.settings import Settings
from deid.tail import RegistryAvroDecoder, decode_value, read_all
from pipelines.risk import DEFAULT_WINDOW, RiskWindow, suggested_quasi_identifiers


def topic_risk(settings: Settings, domain: Domain, last: int = DEFAULT_WINDOW) -> RiskWindow:
    """A risk window over the last `last` records of the domain's anonymised topic."""
    if not domain.quasi_identifiers:
        candidates = suggested_quasi_identifiers(domain)
        hint = f"[{', '.join(candidates)}]" if candidates else "[dob, gender, postcode]"
        raise ConfigError(
            f"domain {domain.name!r} names no quasi_identifiers; add them to its definition "
            f"(e.g. quasi_identifiers: {hint}) to measure its re-identification risk"
        )
    messages = read_all(settings, domain.anonymised_topic, side="out")
    return messages_risk(settings, domain, messages[-last:])


def messages_risk(settings: Settings, domain: Domain, messages: Sequence[Message]) -> RiskWindow:
    """A risk window over these anonymised records (Confluent-framed Avro, decoded through the registry)."""
    decode = RegistryAvroDecoder(lambda: make_registry_client(settings))
    window = RiskWindow(domain.quasi_identifiers, domain.target_k, size=max(1, len(messages)))
    for message in messages:
        record = decode_value(message.value(), decode)
        if isinstance(record, dict) and "schema_id" not in record:
            window.observe(record)
    return window
