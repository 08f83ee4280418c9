"""Logging to stderr (or, for the demo, to a file). deid logs counts, names and reasons, never record
values or key material."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_deid", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    handler._deid = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def configure_file_logging(path: Path, level: str = "INFO") -> None:
    """Every logger (deid's, the Kafka clients', Spark's py4j) to `path` only, e.g. so progress lines own stderr."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._deid = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
