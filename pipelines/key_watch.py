"""A running worker notices `deid keys rotate`: new tokens use the domain's new keys within a minute.

The compiled plan holds the shared keys it was compiled with (no per-record keystore look-up). Every
`interval` seconds the worker asks the keystore for the current ids of `encrypt.<domain>` and
`fpe.<domain>`; when one changed, the worker compiles the same policy again between two batches (and
registers schemas naming the new FPE key). Old tokens stay readable by their key id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pipelines.keys import KeyNotFoundError, Keystore, encrypt_key_name
from pipelines.transforms.encrypt_modes import fpe_key_name

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
        self.keystore, self.interval, self.clock = keystore, interval, clock
        self.names = (encrypt_key_name(domain), fpe_key_name(domain))
        self.ids = self._current()
        self._next = clock() + interval

    @property
    def seen(self) -> str | None:
        """The encrypt key's id when last looked at."""
        return self.ids[0]

    def _current(self) -> tuple[str | None, ...]:
        return tuple(self._current_id(name) for name in self.names)

    def _current_id(self, name: str) -> str | None:
        try:
            return self.keystore.current(name).key_id
        except KeyNotFoundError:
            return None  # not created yet: the plan creates it when a rule needs it

    def rotated(self) -> bool:
        """True once after a key's current id changed (checked at most every `interval` seconds)."""
        now = self.clock()
        if now < self._next:
            return False
        self._next = now + self.interval
        try:
            current = self._current()
        except Exception as exc:  # an unreachable keystore must not stop the stream: keep the keys in hand
            log.warning("keystore check failed (%s); still encrypting with key %s", type(exc).__name__, self.seen)
            return False
        changed = any(
            new is not None and old is not None and new != old for old, new in zip(self.ids, current, strict=True)
        )
        self.ids = current
        return changed
