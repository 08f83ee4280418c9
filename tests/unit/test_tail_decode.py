from __future__ import annotations

import json

from deid.tail import decode_bytes, decode_value


def test_json_values_as_they_are() -> None:
    assert decode_value(b'{"a": 1, "b": [true, null]}') == {"a": 1, "b": [True, None]}
    assert decode_value(b"42") == 42


def test_text_and_binary() -> None:
    assert decode_value("not json: ü".encode()) == "not json: ü"
    assert decode_value(b"\xff\xfe\x01") == {"$base64": "//4B"}
    assert decode_value(None) is None


def test_confluent_framing_without_registry_keeps_schema_id() -> None:
    framed = b"\x00" + (7).to_bytes(4, "big") + b"\x02hi"
    assert decode_value(framed) == {"$confluent_avro": {"schema_id": 7, "base64": "Amhp"}}


def test_confluent_framing_through_decoder() -> None:
    framed = b"\x00\x00\x00\x00\x01body"
    assert decode_value(framed, lambda raw: {"decoded": len(raw)}) == {"decoded": 9}


def test_keys_and_headers() -> None:
    assert decode_bytes(b"user-12345") == "user-12345"
    assert decode_bytes(b"\x80") == {"$base64": "gA=="}
    assert json.dumps(decode_bytes(None)) == "null"
