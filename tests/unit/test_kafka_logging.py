from __future__ import annotations

import logging

from deid.kafka import _DemoteSelfHealing


def test_self_healing_librdkafka_warnings_are_demoted() -> None:
    logger = logging.getLogger("deid.librdkafka")
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        record = logging.LogRecord(logger.name, logging.WARNING, "", 0, "%s: %s", ("GETPID", "retrying"), None)
        assert _DemoteSelfHealing().filter(record) is False
        assert record.levelno == logging.DEBUG
        other = logging.LogRecord(logger.name, logging.WARNING, "", 0, "SASL authentication failed", None, None)
        assert _DemoteSelfHealing().filter(other) is True and other.levelno == logging.WARNING
    finally:
        logger.setLevel(previous)
