"""The embedded local stack: the services `deid stack up` runs on this machine.

Each service has `name`, `start(timeout)`, `stop()`, `status()` and `describe()`; `services()` lists
them. Start order is list order (Kafka, the object storage when DEID_STORAGE_LOCATIONS is set, the
catalog, then the de-identification workers of the domains
with a published policy); stop is the reverse.
"""

from __future__ import annotations

from typing import Protocol

from deid.settings import Settings
from deid.stack.catalog_service import EmbeddedCatalog
from deid.stack.kafka_broker import EmbeddedKafka
from deid.stack.process import StackError
from deid.stack.storage import EmbeddedStorage
from deid.stack.workers import PipelineWorkers

__all__ = ["StackError", "StackService", "services"]


class StackService(Protocol):
    name: str

    def start(self, timeout: float = ...) -> str: ...
    def stop(self) -> str: ...
    def status(self) -> tuple[bool, str]: ...


def services(settings: Settings) -> list[StackService]:
    stack: list[StackService] = [EmbeddedKafka(settings), EmbeddedCatalog(settings), PipelineWorkers(settings)]
    if settings.storage_locations:  # object storage only when configured (batch runs)
        stack.insert(1, EmbeddedStorage(settings))
    return stack
