from __future__ import annotations

import logging

from deid.kafka import _DemoteSelfHealing


def test_self_healing_librdkafka_warnings_are_demoted() -> None:
    record = logging.LogRecord("deid.librdkafka", logging.WARNING, "", 0, "%s: %s", ("GETPID", "retrying"), None)
    logging.getLogger("deid.librdkafka").setLevel(logging.INFO)
    assert _DemoteSelfHealing().filter(record) is False
    assert record.levelno == logging.DEBUG
    other = logging.LogRecord("deid.librdkafka", logging.WARNING, "", 0, "SASL authentication failed", None, None)
    assert _DemoteSelfHealing().filter(other) is True and other.levelno == logging.WARNING
