"""Failed-login defence for every way of logging in (HTTP Basic on the API, the UI's login form).

Failures are counted per user name and per client address over a sliding window. The first few are
free; after that each further attempt must wait an exponential backoff after the last failure, and
past a threshold the key is locked for a while. A blocked attempt is answered 429 with `Retry-After`
before the password is even checked, so guessing stops paying; a success clears the user's count
(not the address's: one valid account must not reset an address that guesses at others).
Loopback addresses have no address limit (per-user limits still apply): the embedded stack runs every
worker on 127.0.0.1, and behind a reverse proxy on the same host every client looks like it, so one
misconfigured client there must not lock the steward out. State is per process, in memory: a restart
forgets it, which is the price of needing no table.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    free: int  # failures allowed before backoff starts
    lock_after: int  # failures that lock the key
    lock_seconds: float
    max_backoff: float = 30.0


@dataclass(frozen=True)
class LoginPolicy:
    window_seconds: float = 900.0
    per_user: Limit = Limit(free=5, lock_after=10, lock_seconds=300.0)
    # Many people can share one address (NAT, a proxy): more room, same backoff.
    per_address: Limit = Limit(free=20, lock_after=100, lock_seconds=300.0)
    limit_loopback: bool = False  # count failures per loopback address too (tests of the address limit)


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


@dataclass(frozen=True)
class Blocked:
    retry_after: int  # whole seconds, at least 1
    locked: bool  # a lockout (threshold reached), not just a backoff
    scope: str  # "user" or "address"


class LoginGuard:
    def __init__(self, policy: LoginPolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], _Failures] = {}

    def _entry(self, key: tuple[str, str], now: float) -> _Failures:
        entry = self._failures.setdefault(key, _Failures())
        while entry.times and entry.times[0] < now - self.policy.window_seconds:
            entry.times.popleft()
        return entry

    def _wait(self, entry: _Failures, limit: Limit, now: float) -> tuple[float, bool]:
        if entry.locked_until > now:
            return entry.locked_until - now, True
        excess = len(entry.times) - limit.free  # failures beyond the free ones: wait 1, 2, 4, … s
        if excess <= 0:
            return 0.0, False
        backoff = min(limit.max_backoff, 2.0 ** (excess - 1))
        return max(0.0, entry.times[-1] + backoff - now), False

    def check(self, user: str, address: str) -> Blocked | None:
        """Why an attempt must wait now, or None when it may go ahead."""
        now = self._clock()
        with self._lock:
            for scope, key, limit in self._keys(user, address):
                wait, locked = self._wait(self._entry(key, now), limit, now)
                if wait > 0:
                    return Blocked(max(1, math.ceil(wait)), locked, scope)
        return None

    def failed(self, user: str, address: str) -> bool:
        """Count a failure; True when it (newly) locked the user or the address."""
        now = self._clock()
        newly_locked = False
        with self._lock:
            for _scope, key, limit in self._keys(user, address):
                entry = self._entry(key, now)
                entry.times.append(now)
                if len(entry.times) >= limit.lock_after and entry.locked_until <= now:
                    entry.locked_until = now + limit.lock_seconds
                    entry.times.clear()
                    newly_locked = True
            if len(self._failures) > 100_000:  # bound memory under a spray of names
                self._failures = {k: v for k, v in self._failures.items() if v.times or v.locked_until > now}
        return newly_locked

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)

    def _keys(self, user: str, address: str) -> list[tuple[str, tuple[str, str], Limit]]:
        keys = [("user", ("user", user), self.policy.per_user)]
        if self.policy.limit_loopback or not _is_loopback(address):
            keys.append(("address", ("address", address), self.policy.per_address))
        return keys


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
