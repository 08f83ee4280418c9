"""Record size limits and the DLQ envelope: sizes counted as the producer counts them, an envelope that always
fits its room, and config that disagrees with the broker refused at start (no broker needed for these)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import orjson
import pytest

from deid.errors import ConfigError
from deid.events import EVENT_ID_HEADER
from deid.settings import Settings
from pipelines.dlq import ENVELOPE_HEADER, Rejection, dlq_headers, envelope
from pipelines.limits import FRAMING_BYTES, Limits, client_limit, record_size, resolve_limits


def test_record_size_counts_value_key_and_headers() -> None:
    assert record_size(b"abc", b"k", []) == 4
    assert record_size(None, None, [("h", b"vv")]) == 1 + 2 + 8
    assert record_size(b"x" * 10, None, [("a", None)]) == 10 + 1 + 8


def test_limits_take_the_smallest_of_client_and_topic() -> None:
    limits = Limits(client_bytes=1_000_000, by_topic={"small": 200_000, "big": 5_000_000})
    assert limits.fits("small") == 200_000 - FRAMING_BYTES
    assert limits.fits("big") == 1_000_000 - FRAMING_BYTES
    assert limits.producer_bytes == 200_000
    assert limits.producer_config() == {"message.max.bytes": 200_000, "batch.size": 200_000 - FRAMING_BYTES}


@pytest.mark.parametrize("room", [2_000, 10_000, 999_488])
def test_envelope_fits_its_room_and_says_what_the_record_was(room: int) -> None:
    value, key = b"\xff" + b"v" * 2_000_000, b"subject-key"
    headers = dlq_headers(Rejection("too_large", "the record is 2000001 bytes"), "t-raw", 3, 42, b"ev-1", 7)
    body, kept_key, out_headers = envelope(value, key, headers, room)
    assert record_size(body, kept_key, out_headers) <= room
    document = orjson.loads(body)
    assert document["value_bytes"] == len(value) and document["value_sha256"] == hashlib.sha256(value).hexdigest()
    assert document["key_sha256"] == hashlib.sha256(key).hexdigest() and kept_key == key
    assert (document["source_topic"], document["source_partition"], document["source_offset"]) == ("t-raw", 3, 42)
    assert document["event_id"] == "ev-1" and document["error_class"] == "too_large"
    head = base64.b64decode(document["value_head_base64"])
    assert value.startswith(head) and len(head) == document["value_head_bytes"] > 0
    assert dict(out_headers)[ENVELOPE_HEADER] == b"1" and dict(out_headers)[EVENT_ID_HEADER] == b"ev-1"


def test_a_long_key_is_only_hashed() -> None:
    headers = dlq_headers(Rejection("too_large", "big"), "t", 0, 0, None, 1)
    _body, kept_key, _ = envelope(b"v" * 5000, b"k" * 5000, headers, 4000)
    assert kept_key is None


def test_client_limit_from_the_config_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kafka_properties={"message.max.bytes": "2000000"})
    assert client_limit(settings, "raw") == (2_000_000, True)
    assert client_limit(Settings(data_dir=tmp_path), "out") == (1_000_000, False)
    with pytest.raises(ConfigError, match=r"message\.max\.bytes must be a whole number"):
        client_limit(Settings(data_dir=tmp_path, kafka_properties={"message.max.bytes": "big"}), "raw")


class _Admin:
    """Stands in for the broker's answer to describe_configs (topic → max.message.bytes)."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits


def test_a_client_limit_above_a_topics_is_refused_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.limits as limits_module

    monkeypatch.setattr(limits_module, "topic_limits", lambda admin, topics: {t: admin.limits[t] for t in topics})
    settings = Settings(data_dir=tmp_path, kafka_properties={"message.max.bytes": "2000000"})
    admin = _Admin({"out": 1_048_588, "dlq": 3_000_000})
    with pytest.raises(ConfigError, match=r"message.max.bytes is 2000000 but topic out takes at most 1048588"):
        resolve_limits(settings, 1_000_000, admin, ["out"], admin, "dlq")  # type: ignore[arg-type]
    resolved = resolve_limits(Settings(data_dir=tmp_path), 1_000_000, admin, ["out"], admin, "dlq")  # type: ignore[arg-type]
    assert resolved.fits("out") == 1_000_000 - FRAMING_BYTES
