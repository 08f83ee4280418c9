"""Serving the app with uvicorn so that SIGTERM/SIGINT finish in-flight requests and exit 0.

(uvicorn itself re-raises the signal after its graceful shutdown, which would make every
`deid stack down` look like a crash.)"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn


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


def serve_app(app: Any, *, host: str, port: int, log_level: str, access_log: bool) -> None:
    GracefulServer(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log)).run()
