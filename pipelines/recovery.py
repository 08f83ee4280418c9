"""How a worker rides out what it depends on going away, without ever letting a record out untreated.

- The keystore cannot give a batch its per-subject keys (`KeystoreWait`): the batch is rewound and read
  again after a pause (0.5 s, 1 s, 2 s, then every 5 s), so its records wait; none goes out without its key.
- The broker fenced the consumer (`ConsumerFenced`): after an outage longer than the session timeout, the
  static member's own rejoin can fence it. The worker replaces it with a new consumer, which resumes from
  the committed offsets (`FenceGuard` stops that after a few times in ten minutes: then another live
  worker has the same --instance-id, and replacing would only fence it in turn).
- A keystore that does not answer at start: one line naming it (`open_worker_keystore`).
Transactions stuck by a broker outage are delivery.py's (`ExactlyOnce._restart`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from deid.errors import DeidError
from deid.settings import Settings
from pipelines.keys import Keystore, open_keystore

log = logging.getLogger(__name__)

KEYSTORE_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)
MAX_CONSUMER_REPLACEMENTS = 3
CONSUMER_REPLACE_WINDOW = 600.0


class ConsumerFenced(Exception):
    """The consumer hit a fatal error (fenced); the batch in hand is dropped uncommitted and read again."""


def open_worker_keystore(settings: Settings, keystore: Keystore | None, secret_name: str) -> tuple[Keystore, bytes]:
    """The keystore (opened unless given) and the material of `secret_name` (created if missing)."""
    where = "DEID_KEYSTORE_URL" if settings.keystore_url else f"{settings.data_dir}/keys/keystore.db"
    try:
        keystore = keystore if keystore is not None else open_keystore(settings)
        keystore.ensure(secret_name, "secret")
        return keystore, keystore.current(secret_name).material
    except DeidError:
        raise
    except Exception as exc:  # the database's own message may quote the URL (credentials): class only
        raise DeidError(
            f"the keystore ({where}) did not answer ({type(exc).__name__}); start its database or correct "
            "DEID_KEYSTORE_URL, then start the worker again"
        ) from None


class KeystoreWait:
    """Pauses between attempts while the keystore fails; says when it answers again."""

    def __init__(self, domain: str) -> None:
        self.domain, self.failures = domain, 0

    def failed(self, exc: Exception, waiting: int, stopping: Callable[[], bool]) -> None:
        pause = KEYSTORE_RETRY_SECONDS[min(self.failures, len(KEYSTORE_RETRY_SECONDS) - 1)]
        self.failures += 1
        log.warning("%s: the keystore did not give this batch its per-subject keys (%s); %d record(s) wait, next "
                    "try in %gs", self.domain, type(exc).__name__, waiting, pause)  # fmt: skip
        deadline = time.monotonic() + pause
        while not stopping() and time.monotonic() < deadline:
            time.sleep(0.1)

    def succeeded(self) -> None:
        if self.failures:
            log.info("%s: the keystore answers again", self.domain)
            self.failures = 0


class FenceGuard:
    """Counts consumer replacements; DeidError when they come in a loop (a duplicate --instance-id)."""

    def __init__(self, topic: str, instance_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.topic, self.instance_id, self.clock = topic, instance_id, clock
        self.times: list[float] = []

    def replacing(self, reason: str) -> None:
        now = self.clock()
        self.times = [t for t in self.times if now - t < CONSUMER_REPLACE_WINDOW] + [now]
        if len(self.times) > MAX_CONSUMER_REPLACEMENTS:
            raise DeidError(
                f"the consumer of {self.topic} was fenced {len(self.times)} times in {CONSUMER_REPLACE_WINDOW:g}s "
                f"({reason}): another live worker has --instance-id {self.instance_id}; give each worker of the "
                "domain its own"
            )
        log.warning("the consumer of %s was fenced (%s); resuming with a new one from the committed offsets",
                    self.topic, reason)  # fmt: skip


def close_quietly(consumer: Any) -> None:
    try:
        consumer.close()
    except Exception as exc:  # it is dead already; the new one takes over
        log.info("closing the fenced consumer: %s", type(exc).__name__)
