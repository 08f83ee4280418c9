"""The failed-login guard on a controlled clock: free attempts, exponential backoff, lockout and its
expiry, per user and per address, loopback exempt from the address limit."""

from __future__ import annotations

from catalog.server.login_guard import Limit, LoginGuard, LoginPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


POLICY = LoginPolicy(
    window_seconds=600,
    per_user=Limit(free=2, lock_after=5, lock_seconds=60, max_backoff=8),
    per_address=Limit(free=3, lock_after=6, lock_seconds=120, max_backoff=8),
)


def test_user_backoff_grows_then_locks_and_expires() -> None:
    clock = Clock()
    guard = LoginGuard(POLICY, clock)
    for _ in range(2):
        assert guard.check("ann", "10.0.0.1") is None
        assert guard.failed("ann", "10.0.0.1") is False
    assert guard.check("ann", "10.0.0.1") is None  # two free failures: no wait yet
    assert guard.failed("ann", "10.0.0.1") is False
    blocked = guard.check("ann", "10.0.0.1")
    assert blocked is not None and blocked.retry_after == 1 and not blocked.locked and blocked.scope == "user"
    clock.now += 1
    assert guard.check("ann", "10.0.0.1") is None
    guard.failed("ann", "10.0.0.1")
    assert guard.check("ann", "10.0.0.1").retry_after == 2  # type: ignore[union-attr]
    clock.now += 2
    assert guard.failed("ann", "10.0.0.1") is True  # the fifth failure locks
    locked = guard.check("ann", "10.0.0.1")
    assert locked is not None and locked.locked and locked.retry_after == 60
    assert guard.check("bob", "10.0.0.2") is None  # other users and addresses are free
    clock.now += 60
    assert guard.check("ann", "10.0.0.1") is None


def test_success_clears_the_user_but_not_the_address() -> None:
    clock = Clock()
    guard = LoginGuard(POLICY, clock)
    for user in ("u1", "u2", "u3", "u4"):  # one address sprays four names
        guard.failed(user, "10.0.0.9")
    guard.succeeded("u1")
    blocked = guard.check("u5", "10.0.0.9")
    assert blocked is not None and blocked.scope == "address"


def test_failures_leave_the_window() -> None:
    clock = Clock()
    guard = LoginGuard(POLICY, clock)
    for _ in range(4):
        guard.failed("ann", "10.0.0.1")
        clock.now += 10
    clock.now += 600
    assert guard.check("ann", "10.0.0.1") is None
    guard.failed("ann", "10.0.0.1")
    assert guard.check("ann", "10.0.0.1") is None  # counted afresh: one failure is free


def test_loopback_has_no_address_limit_unless_asked() -> None:
    guard = LoginGuard(POLICY, Clock())
    for index in range(10):
        guard.failed(f"user{index}", "127.0.0.1")
    assert guard.check("someone-else", "127.0.0.1") is None
    strict = LoginGuard(LoginPolicy(per_address=POLICY.per_address, limit_loopback=True), Clock())
    for index in range(10):
        strict.failed(f"user{index}", "127.0.0.1")
    assert strict.check("someone-else", "127.0.0.1") is not None
