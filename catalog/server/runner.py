"""Serving the app with uvicorn so that SIGTERM/SIGINT stop the catalog within a few seconds and exit 0.

uvicorn itself re-raises the signal after its graceful shutdown, which would make every
`deid stack down` look like a crash. A request still running after the grace period (a large bulk
write in a worker thread) would keep the process alive until it ends: once the grace period is over
the process exits anyway. That is safe: an unfinished transaction rolls back (SQLite's journal,
PostgreSQL's dropped connection), and chunks a bulk write already committed stay committed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

log = logging.getLogger(__name__)
GRACE_SECONDS = 5.0


class GracefulServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        def stop(_signum: int, _frame: object) -> None:
            if self.should_exit:
                self.force_exit = True  # a second Ctrl-C stops waiting for open connections
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _busy_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and t.is_alive() and not t.daemon]


def serve_app(
    app: Any, *, host: str, port: int, log_level: str, access_log: bool, grace_seconds: float = GRACE_SECONDS
) -> None:
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=access_log, timeout_graceful_shutdown=grace_seconds
    )
    GracefulServer(config).run()
    busy = _busy_threads()
    if busy:
        for thread in busy:
            thread.join(timeout=0.5)
        if _busy_threads():
            log.warning("catalog: stopping with a request still running; its unfinished transaction rolls back")
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.write("catalog: stopped\n")
            sys.stderr.flush()
            os._exit(0)
