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


def test_decoded_avro_values_become_json() -> None:
    import datetime
    import decimal
    import uuid

    from deid.tail import jsonable

    value = {
        "at": datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2024, 5, 1),
        "raw": b"\x00\xff",
        "amount": decimal.Decimal("12.50"),
        "ids": (uuid.UUID(int=1),),
    }
    assert jsonable(value) == {
        "at": "2024-05-01T12:00:00+00:00",
        "day": "2024-05-01",
        "raw": {"$base64": "AP8="},
        "amount": "12.50",
        "ids": ["00000000-0000-0000-0000-000000000001"],
    }


def test_registry_decoder_reports_an_unusable_registry_per_record() -> None:
    from deid.tail import RegistryAvroDecoder

    attempts = []

    def no_registry() -> object:
        attempts.append(1)
        raise ConnectionError("refused")

    decoder = RegistryAvroDecoder(no_registry)  # type: ignore[arg-type]
    framed = b"\x00" + (5).to_bytes(4, "big") + b"\x02"
    for _ in range(3):
        marker = decoder(framed)["$confluent_avro"]
        assert marker["schema_id"] == 5 and "unreachable" in marker["error"]
    assert len(attempts) == 1  # remembered for a while, not retried for every record
