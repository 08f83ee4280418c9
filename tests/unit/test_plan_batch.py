"""Batch forms give what the per-record forms give: Plan.apply_batch vs apply, encode_batch vs encode."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.fernet import Fernet

from deid.domains import load_registry
from deid.policy import Policy
from pipelines.avro import AvroEncodeError, ConfluentAvroEncoder, anonymised_schema, decode_confluent
from pipelines.columns import treat_columns
from pipelines.dlq import Rejection
from pipelines.keys import Keystore
from pipelines.plan import compile_policy
from pipelines.transforms import TokenDecryptor, TreatmentError
from pipelines.transforms.base import batch_form
from pipelines.transforms.fastcrypto import FastFernet
from pipelines.treat import treat_batch
from tests.unit.test_policy import CHANNEL_POLICY, PROFILE_POLICY

MOVIE_RULES: dict[str, Any] = {
    "movie_name": {"treatment": "keep"},
    "movie_type": {"treatment": "redact", "params": {"flag": True}},
    "purchase_date": {"treatment": "date_shift", "params": {"max_days": 30}},
    "user_id": {"treatment": "mask", "params": {"length": 16}},
    "price": {"treatment": "keep"},
    "card_number": {"treatment": "encrypt", "params": {"mode": "deterministic"}},
}
GOOD = {
    "movie_name": "movie-1",
    "movie_type": "family",
    "purchase_date": "01-02-2024",
    "user_id": "user-00001",
    "price": 9.5,
    "card_number": "123456789012345",
}


def movie_records() -> list[Any]:
    """Good records, repeated values, nulls, missing and extra fields, and values that fail a treatment."""
    records: list[Any] = []
    for n in range(40):
        record = dict(GOOD, user_id=f"user-{n % 7:05d}", purchase_date=f"{1 + n % 28:02d}-03-2024")
        records.append(record)
    records[3]["purchase_date"] = "not a date"  # date_shift refuses: TreatmentError
    records[5]["user_id"] = ["a", "list"]  # not a subject (date_shift, first in plan order), mask refuses it
    records[7]["price"] = "nine"  # kept, then does not fit the double: an encode error
    records[9] = {**records[9], "extra": 1, "movie_type": None}  # uncovered field, a null
    records[11] = {"movie_name": "movie-2"}  # every other field missing
    records[13]["user_id"] = None  # mask: null stays null; date_shift: no subject
    return records


def per_record(plan: Any, records: list[Any]) -> list[Any]:
    out = []
    for record in records:
        try:
            out.append(plan.apply(record))
        except TreatmentError as exc:
            out.append(exc)
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, TreatmentError):
        return isinstance(b, TreatmentError) and (a.field_path, a.reason) == (b.field_path, b.reason)
    return type(a) is dict and a == b and list(a) == list(b)


def test_apply_batch_is_apply_record_by_record(keystore: Keystore) -> None:
    policy = Policy(domain="movie", version=1, status="published", rules=MOVIE_RULES)
    movie = load_registry().get("movie")
    one, batch = compile_policy(policy, movie, keystore), compile_policy(policy, movie, keystore)
    assert batch._columnar  # flat, no consent: the column-by-column path is the one under test
    records = movie_records()
    expected, got = per_record(one, records), batch.apply_batch(records)
    assert len(got) == len(records)
    for index, (a, b) in enumerate(zip(expected, got, strict=True)):
        assert same(a, b), index
    failed = [i for i, out in enumerate(got) if isinstance(out, TreatmentError)]
    assert failed == [3, 5, 13]
    assert got[3].field_path == "purchase_date" and "not a date" not in got[3].reason
    assert got[0]["data_redacted"] is True and got[0]["movie_type"] == "REDACTED_CONTENT"
    assert batch.uncovered == one.uncovered == {"extra"}


def test_apply_batch_fernet_and_not_columnar_plans(keystore: Keystore) -> None:
    channel = load_registry().get("channel")
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), channel, keystore)
    records = [{"channel_name": "c", "tv_show": "t", "tv_show_type": "x", "date": "01-01-2024", "user_id": f"u{n}"}
               for n in range(10)]  # fmt: skip
    out = plan.apply_batch(records)
    decrypt = TokenDecryptor(keystore).decrypt
    assert [decrypt(o["user_id"]) for o in out] == [f"u{n}" for n in range(10)]
    assert [o["date"] for o in out] == [plan.apply(r)["date"] for r in records]
    profile = compile_policy(Policy.from_yaml(PROFILE_POLICY), load_registry().get("profile"), keystore)
    assert not profile._columnar  # consent: record by record, same results
    rows: list[Any] = [{"name": "A B", "dob": "01-01-1990", "data_share_consent": c} for c in (True, False)]
    rows.append("not an object")
    assert all(same(a, b) for a, b in zip(per_record(profile, rows), profile.apply_batch(rows), strict=True))


def test_columns_use_a_batch_form_and_fall_back_value_by_value() -> None:
    calls: list[int] = []

    def double(value: Any, _subject: Any) -> Any:
        if value == "bad":
            raise TreatmentError("b", "cannot double this")
        return value * 2

    def double_batch(values: list[Any], subjects: list[Any]) -> list[Any]:
        calls.append(len(values))
        return [None if v is None else double(v, s) for v, s in zip(values, subjects, strict=True)]

    double.batch = double_batch  # type: ignore[attr-defined]
    records = [{"a": 1, "b": 2}, {"a": 2, "b": None}, {"a": 3, "b": "bad"}, {"b": 4, "c": 0}]
    uncovered: set[str] = set()
    columns = treat_columns([("a", None), ("b", double)], frozenset({"a", "b"}), records, [None] * 4, uncovered)
    rows = columns.rows()
    assert rows[:2] == [{"a": 1, "b": 4}, {"a": 2, "b": None}] and rows[3] == {"a": None, "b": 8}
    assert isinstance(rows[2], TreatmentError) and rows[2].field_path == "b"
    assert calls == [4] and uncovered == {"c"}
    assert columns.treated() == {"a": [1, 2, None], "b": [4, None, 8]}  # the failed record left out


def test_encode_batch_is_encode_record_by_record() -> None:
    movie = load_registry().get("movie")
    policy = Policy(domain="movie", version=1, status="published", rules=MOVIE_RULES)
    schema = anonymised_schema(movie, policy)
    encoder = ConfluentAvroEncoder(schema, 7)
    records: list[Any] = [dict(GOOD, movie_name=f"m{n % 3}", data_redacted=True) for n in range(20)]
    records[4]["price"] = "nine"
    records[6]["movie_name"] = ["x"]  # unhashable: must not break the cached string encoder
    records[8]["movie_name"] = None
    records[10]["movie_name"] = "é" * 100  # long: not cached, still right
    batch = encoder.encode_batch(records)
    for record, encoded in zip(records, batch, strict=True):
        try:
            expected: Any = encoder.encode(record)
        except AvroEncodeError as exc:
            expected = exc
        if isinstance(expected, AvroEncodeError):
            assert isinstance(encoded, AvroEncodeError) and str(encoded) == str(expected)
        else:
            assert encoded == expected
            assert decode_confluent(encoded, schema) == (7, {**record, "user_id": record["user_id"]})
    assert [i for i, e in enumerate(batch) if isinstance(e, AvroEncodeError)] == [4, 6]
    clean = [r for i, r in enumerate(records) if i not in (4, 6)]
    assert encoder.encode_batch(clean) == [encoder.encode(r) for r in clean]


def test_treat_batch_rejections_name_the_field(keystore: Keystore) -> None:
    policy = Policy(domain="movie", version=1, status="published", rules=MOVIE_RULES)
    movie = load_registry().get("movie")
    plan = compile_policy(policy, movie, keystore)
    encoders = {movie.anonymised_topic: ConfluentAvroEncoder(anonymised_schema(movie, policy), 1)}
    results = treat_batch(plan, encoders, movie.anonymised_topic, movie_records())
    classes = {i: (r.error_class, r.field) for i, r in enumerate(results) if not isinstance(r, tuple)}
    assert classes == {3: ("treatment", "purchase_date"), 5: ("treatment", "purchase_date"), 7: ("encode", None),
                       13: ("treatment", "purchase_date")}  # fmt: skip
    main, pairs = results[0]  # type: ignore[misc]
    assert pairs == [(movie.anonymised_topic, encoders[movie.anonymised_topic].encode(main))]


def test_fernet_batches_decrypt_with_cryptography_and_never_share_an_iv() -> None:
    key = Fernet.generate_key()
    fast, reference = FastFernet(key), Fernet(key)
    one_block = [f"user-{n:05d}".encode() for n in range(300)]
    mixed = [b"", b"x" * 15, b"y" * 16, b"z" * 40, "é".encode() * 30]
    for values in (one_block, mixed, []):
        tokens = fast.encrypt_many(values)
        assert [reference.decrypt(token) for token in tokens] == values
    ivs = {base64.urlsafe_b64decode(t)[9:25] for t in fast.encrypt_many(one_block) + fast.encrypt_many(one_block)}
    assert len(ivs) == 600


def test_encrypt_column_is_encrypt_value_by_value(keystore: Keystore) -> None:
    channel = load_registry().get("channel")
    plan = compile_policy(Policy.from_yaml(CHANNEL_POLICY), channel, keystore)
    encrypt = dict(plan._main.root.plain)["user_id"]
    assert encrypt is not None
    column = batch_form(encrypt)(["u1", None, 7, True], [None] * 4)
    decrypt = TokenDecryptor(keystore).decrypt
    assert column[1] is None and [decrypt(column[i]) for i in (0, 2, 3)] == ["u1", "7", "true"]
    assert decrypt(encrypt("u1", None)) == "u1"
    with pytest.raises(TreatmentError, match="cannot encrypt a list"):
        batch_form(encrypt)(["u1", ["a"]], [None, None])


def test_treat_batch_without_records_gives_the_same_bytes(keystore: Keystore) -> None:
    policy = Policy(domain="movie", version=1, status="published", rules=MOVIE_RULES)
    movie = load_registry().get("movie")
    plan = compile_policy(policy, movie, keystore)
    encoders = {movie.anonymised_topic: ConfluentAvroEncoder(anonymised_schema(movie, policy), 1)}
    for records in (movie_records(), movie_records()[14:]):  # with rejections, and a clean batch
        full = treat_batch(plan, encoders, movie.anonymised_topic, records)
        lean = treat_batch(plan, encoders, movie.anonymised_topic, records, want_records=False)
        assert [r if isinstance(r, Rejection) else r[1] for r in full] == [
            r if isinstance(r, Rejection) else r[1] for r in lean
        ]
    assert all(not isinstance(r, Rejection) and r[0] is None for r in lean)


def test_date_shift_batch_is_value_by_value_cold_and_warm(keystore: Keystore) -> None:
    """The batch form's look-ups (offsets, day numbers, texts) give what the per-value function gives, on a
    cold first batch, a warm second one and one with new subjects, int subjects and bad values."""
    channel = load_registry().get("channel")
    shift = dict(compile_policy(Policy.from_yaml(CHANNEL_POLICY), channel, keystore)._main.root.plain)["date"]
    reference = dict(compile_policy(Policy.from_yaml(CHANNEL_POLICY), channel, keystore)._main.root.plain)["date"]
    assert shift is not None and reference is not None
    batch = batch_form(shift)
    dates = [f"{1 + n % 28:02d}-{1 + n % 12:02d}-20{10 + n % 15}" for n in range(60)]
    subjects: list[Any] = [f"u{n % 9}" for n in range(60)]
    for round_subjects in (subjects, subjects, [*subjects[:30], *range(30)]):
        assert batch(dates, round_subjects) == [reference(d, s) for d, s in zip(dates, round_subjects, strict=True)]
    assert batch([dates[0], None], ["u1", "u2"]) == [reference(dates[0], "u1"), None]
    with pytest.raises(TreatmentError):
        batch([dates[0], "31-02-2024"], ["u1", "u1"])
    with pytest.raises(TreatmentError):
        batch([dates[0], dates[1]], ["u1", None])  # no subject: no offset


def test_decode_records_is_decode_record_value_by_value() -> None:
    from pipelines.dlq import decode_record, decode_records

    good = [b'{"a": 1}', b'{"b": "x"}']
    assert decode_records(good) == ([{"a": 1}, {"b": "x"}], [])
    mixed: list[bytes | None] = [
        b'{"a": 1}',
        b"",
        None,
        b"[1]",
        b"{bad",
        b'{"c": 2}',
        b"\xff",
        b'{"d": "' + b"x" * 50 + b'"}',
    ]
    records, failed = decode_records(mixed, max_bytes=40)
    expected: list[Any] = []
    for value in mixed:
        try:
            expected.append(decode_record(value, 40))
        except Rejection as rejection:
            expected.append(rejection)
    assert records == [e for e in expected if type(e) is dict] == [{"a": 1}, {"c": 2}]
    assert failed == [(i, e) for i, e in enumerate(expected) if type(e) is Rejection]
    assert [r.error_class for _, r in failed] == [
        "empty",
        "empty",
        "not_object",
        "invalid_json",
        "invalid_utf8",
        "too_large",
    ]
