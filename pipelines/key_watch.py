"""A running worker notices `deid keys rotate`: new tokens use the domain's new encrypt key within a minute.

The compiled plan holds the shared key it was compiled with (no per-record keystore look-up). Every
`interval` seconds the worker asks the keystore for the current id of `encrypt.<domain>`; when it changed,
the worker compiles the same policy again between two batches. Old tokens stay readable by their key id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pipelines.keys import KeyNotFoundError, Keystore, encrypt_key_name

log = logging.getLogger(__name__)
KEY_CHECK_SECONDS = 60.0


class SharedKeyWatcher:
    def __init__(
        self,
        keystore: Keystore,
        domain: str,
        interval: float = KEY_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keystore, self.name, self.interval, self.clock = keystore, encrypt_key_name(domain), interval, clock
        self.seen = self._current()
        self._next = clock() + interval

    def _current(self) -> str | None:
        try:
            return self.keystore.current(self.name).key_id
        except KeyNotFoundError:
            return None  # not created yet: the plan creates it when a shared encrypt rule needs it

    def rotated(self) -> bool:
        """True once after the key's current id changed (checked at most every `interval` seconds)."""
        now = self.clock()
        if now < self._next:
            return False
        self._next = now + self.interval
        try:
            current = self._current()
        except Exception as exc:  # an unreachable keystore must not stop the stream: keep the key in hand
            log.warning("keystore check failed (%s); still encrypting with key %s", type(exc).__name__, self.seen)
            return False
        changed = current is not None and self.seen is not None and current != self.seen
        self.seen = current
        return changed
