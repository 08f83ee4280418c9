"""Arbitrary schema-like JSON never crashes the registry: it parses or is an InvalidSchemaError (42201),
and any two schemas that parse can be compared."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.registry.avro_schema import AvroSchema, InvalidSchemaError
from catalog.registry.compatibility import CompatibilityLevel, PreviousVersion, check_compatibility

NAMES = st.sampled_from(["A", "B", "n.A", "int", "string", "null", "long", "x y", "", "R"])
TYPE_NAMES = st.sampled_from(
    [
        "null",
        "boolean",
        "int",
        "long",
        "float",
        "double",
        "bytes",
        "string",
        "record",
        "enum",
        "fixed",
        "array",
        "map",
        "A",
        "n.A",
    ]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=3)
)


def schemas() -> st.SearchStrategy[object]:
    return st.recursive(
        st.one_of(TYPE_NAMES, SCALARS),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.fixed_dictionaries(
                {"type": TYPE_NAMES},
                optional={
                    "name": NAMES,
                    "namespace": st.one_of(NAMES, SCALARS),
                    "fields": st.lists(
                        st.fixed_dictionaries(
                            {"name": NAMES, "type": inner},
                            optional={"default": st.one_of(SCALARS, inner), "aliases": st.lists(NAMES, max_size=2)},
                        ),
                        max_size=3,
                    ),
                    "symbols": st.lists(NAMES, max_size=3),
                    "items": inner,
                    "values": inner,
                    "size": st.one_of(st.integers(-2, 4), SCALARS),
                    "default": SCALARS,
                    "aliases": st.lists(NAMES, max_size=2),
                    "logicalType": st.sampled_from(["date", "uuid", "decimal"]),
                },
            ),
        ),
        max_leaves=12,
    )


def parse_or_none(raw: object) -> AvroSchema | None:
    try:
        return AvroSchema.parse(json.dumps(raw))
    except InvalidSchemaError:
        return None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas(), schemas())
def test_arbitrary_json_parses_or_is_invalid_and_valid_pairs_compare(a: object, b: object) -> None:
    first, second = parse_or_none(a), parse_or_none(b)
    if first is not None and second is not None:
        result = check_compatibility(CompatibilityLevel.FULL, first, [PreviousVersion(1, second)])
        assert isinstance(result, list)
        assert check_compatibility(CompatibilityLevel.FULL, first, [PreviousVersion(1, first)]) == []


def test_deep_nesting_is_invalid_not_a_crash() -> None:
    deep = '{"type": "array", "items": ' * 5000 + '"int"' + "}" * 5000
    for text in (deep, "[" * 100_000 + "]" * 100_000):
        try:
            AvroSchema.parse(text)
        except InvalidSchemaError as exc:
            assert "nested too deeply" in str(exc) or "union" in str(exc)
        else:
            raise AssertionError("accepted an absurdly nested schema")
