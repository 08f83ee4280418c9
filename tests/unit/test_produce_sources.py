"""Replay parsing, keys, ids, throttling, producer settings and the CLI's checks before any broker is needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from deid.domains import load_registry
from deid.errors import ConfigError
from deid.events import EVENT_ID_HEADER, event_id_of
from deid.settings import Settings
from producers.produce import Throttle, producer_overrides
from producers.registry import generator_for
from producers.sources import generated_events, key_field_for, parse_line, replayed_events, scan_file
from tests.conftest import REPO, deid_env, run_deid

REGISTRY = load_registry()
FIXTURE = REPO.parent / "shared" / "fixtures" / "channel_seed_events.jsonl"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "empty line"),
        (b"   ", "empty line"),
        (b'{"a": 1', "not valid JSON (Expecting ',' delimiter at column 8)"),
        (b"user-12345 watched Barry", "not valid JSON (Expecting value at column 1)"),
        (b"[1, 2]", "a JSON array, not an object"),
        (b'"Barry"', "a JSON string, not an object"),
        (b"42", "a JSON number, not an object"),
        (b"null", "a JSON null, not an object"),
        (b'{"name": "\xff\xfe"}', "not UTF-8 text"),
    ],
)
def test_bad_lines_get_a_reason_that_never_quotes_them(line: bytes, reason: str) -> None:
    assert parse_line(line) == (None, reason)


def test_a_json_object_line_parses() -> None:
    assert parse_line(b' {"tv_show": "Andi Mack"} ') == ({"tv_show": "Andi Mack"}, None)


def test_replay_sends_lines_as_they_are_with_ids_from_the_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        b'{"user_id": "user-10001", "tv_show": "Barry"}',
        b"not json at all",
        b'{"tv_show": "Dark"}',
        b"[1]",
        b'{"user_id": 12345,  "tv_show": "Luther"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\r\n")
    scan = scan_file(path)
    assert scan.lines == 5 and scan.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    bad: list[tuple[int, str]] = []
    sent = list(replayed_events(path, scan, "user_id", lambda n, reason: bad.append((n, reason))))
    prefix = f"file:{scan.digest[:16]}:"
    assert [e.event_id for e in sent] == [prefix + "1", prefix + "3", prefix + "5"]
    assert [e.value for e in sent] == [lines[0], lines[2], lines[4]]
    assert [e.key for e in sent] == [b"user-10001", None, b"12345"]
    assert bad == [(2, "not valid JSON (Expecting value at column 1)"), (4, "a JSON array, not an object")]


def test_scan_counts_a_last_line_without_line_break(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"{}\n{}")
    assert scan_file(path).lines == 2
    path.write_bytes(b"")
    assert scan_file(path).lines == 0


def test_the_seed_fixture_replays_clean() -> None:
    scan = scan_file(FIXTURE)
    bad: list[object] = []
    sent = list(replayed_events(FIXTURE, scan, "user_id", lambda n, r: bad.append(n)))
    assert len(sent) == 16 and not bad
    assert {json.loads(e.value)["tv_show"] for e in sent} >= {"Barry", "Andi Mack"}


def test_keys_default_to_the_subject_and_to_the_event_id_without_one() -> None:
    channel = generator_for(REGISTRY.get("channel"), 1)
    for event in generated_events(channel, 20, key_field_for(REGISTRY.get("channel"), None)):
        assert event.key == json.loads(event.value)["user_id"].encode()
    memo = REGISTRY.get("memo")
    assert memo.subject_field is None
    for event in generated_events(generator_for(memo, 1), 3, key_field_for(memo, None)):
        assert event.key == event.event_id.encode()
    for event in generated_events(channel, 5, key_field_for(REGISTRY.get("channel"), "tv_show")):
        assert event.key == json.loads(event.value)["tv_show"].encode()


def test_unknown_key_field_names_the_fields() -> None:
    with pytest.raises(ConfigError, match=r"--key-field 'nope' is not a field of domain 'movie'; fields: movie_name"):
        key_field_for(REGISTRY.get("movie"), "nope")


def test_values_are_compact_utf8_json() -> None:
    generator = generator_for(REGISTRY.get("profile"), 2)
    for event in generated_events(generator, 200, "ssn_no"):
        text = event.value.decode("utf-8")
        assert ", " not in text.split('"name"')[0] and "\\u" not in text
        assert json.loads(text)["ssn_no"].encode() == event.key


def test_event_id_header_helper() -> None:
    assert EVENT_ID_HEADER == "event_id"
    assert event_id_of([("other", b"x"), ("event_id", b"gen:channel:1:0")]) == "gen:channel:1:0"
    assert event_id_of(None) is None and event_id_of([("event_id", None)]) is None


class FakeClock:
    """Time that moves only when the throttle sleeps: the throttle's arithmetic, not the machine's speed."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_throttle_spaces_events_at_the_rate() -> None:
    clock = FakeClock()
    throttle = Throttle(50.0, clock=clock, sleep=clock.sleep)
    throttle.wait(0)
    assert clock.slept == []
    for sent in range(1, 6):
        throttle.wait(sent)
    assert clock.slept == [0.02] * 5 and clock.now == pytest.approx(100.1)
    clock.now += 1.0  # running late: no sleep until the schedule catches up
    throttle.wait(6)
    assert len(clock.slept) == 5
    with pytest.raises(ValueError):
        Throttle(0)


def test_producer_is_idempotent_and_configured_properties_win_over_tuning() -> None:
    overrides = producer_overrides(Settings())
    assert overrides["enable.idempotence"] is True and overrides["compression.type"] == "lz4"
    configured = Settings(kafka_properties={"compression.type": "zstd", "enable.idempotence": "false"})
    overrides = producer_overrides(configured)
    assert "compression.type" not in overrides  # the config file's zstd applies
    assert overrides["enable.idempotence"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown domain 'nope'; known domains: channel, clickstream, memo, mobile, movie, profile, website"),
        (["channel", "--from-file", str(FIXTURE), "--count", "3"], "--count cannot be combined with --from-file"),
        (["channel", "--consent-ratio", "0.5"], "--consent-ratio applies to the profile domain only"),
        (["profile", "--consent-ratio", "1.5"], "1.5 is not in the range 0<=x<=1"),
        (["channel", "--truth-file", "t.jsonl"], "--truth-file: domain 'channel' has no free text with labelled spans"),
        (["channel", "--key-field", "nope"], "--key-field 'nope' is not a field of domain 'channel'"),
        (["channel", "--rate", "0"], "0.0 is not in the range x>0"),
        (["channel", "--from-file", "/no/such/file.jsonl"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_before_touching_kafka(args: list[str], message: str) -> None:
    # The bootstrap points nowhere: these must fail on their own, quickly, not on the broker.
    result = run_deid("produce", *args, env=deid_env(DEID_KAFKA_BOOTSTRAP="127.0.0.1:1"), timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_broker_is_a_clear_error() -> None:
    result = run_deid("produce", "channel", "--count", "5", env=deid_env(DEID_KAFKA_BOOTSTRAP="127.0.0.1:1"))
    assert result.returncode == 1
    assert "Kafka at 127.0.0.1:1 (DEID_KAFKA_BOOTSTRAP) did not answer" in result.stderr
