"""The demo's step runner: numbered steps with progress on stderr, each step's details in the log file,
and a failure that names the step, the reason and the log to read."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from deid.errors import DeidError


class DemoFailed(DeidError):
    """A step failed: the message names it, says why and where the log is."""

    def __init__(self, step: str, reason: str, log_file: Path) -> None:
        super().__init__(f"demo failed at step '{step}': {reason}\n  log: {log_file}")
        self.step, self.reason, self.log_file = step, reason, log_file


@dataclass
class StepRunner:
    log_file: Path
    total: int
    out: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def say(self, message: str) -> None:
        """A progress line under the current step (and in the log)."""
        logging.getLogger("deid.demo").info(message)
        self.out.write(f"      {message}\n")
        self.out.flush()

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        self.done += 1
        self.out.write(f"[{self.done}/{self.total}] {name}\n")
        self.out.flush()
        logging.getLogger("deid.demo").info("step %d/%d: %s", self.done, self.total, name)
        started = time.perf_counter()
        try:
            result = action()
        except DemoFailed:
            raise
        except DeidError as exc:
            raise DemoFailed(name, str(exc), self.log_file) from None
        except Exception as exc:  # an unexpected failure still names the step; the traceback goes to the log
            logging.getLogger("deid.demo").exception("step %s failed", name)
            raise DemoFailed(name, f"{type(exc).__name__}: {exc}", self.log_file) from None
        seconds = time.perf_counter() - started
        self.timings[name] = seconds
        self.out.write(f"      done in {seconds:.1f} s\n")
        self.out.flush()
        return result
