"""A treatment and its parameters from the schema-review form, typed by the treatment's parameter schema
(`deid.policy.treatment_options`): form inputs are named `<treatment>.<parameter>`; empty means default."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from catalog.ui.data import FieldRow
from deid.errors import DeidError
from deid.policy import describe_errors, make_rule


def param_kind(schema: dict[str, Any]) -> str:
    """The JSON-schema type of a parameter (the non-null one of an Optional), `enum` for a choice."""
    if "enum" in schema:
        return "enum"
    if "type" in schema:
        return str(schema["type"])
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return param_kind(option)
    return "string"


def param_choices(schema: dict[str, Any]) -> list[str]:
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    for option in schema.get("anyOf", []):
        if "enum" in option:
            return [str(v) for v in option["enum"]]
    return []


def _coerce(name: str, kind: str, raw: str) -> Any:
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        raise DeidError(f"{name}: {raw[:20]!r} is not a {kind}") from None
    if kind == "array":
        return [part.strip().upper() for part in raw.split(",") if part.strip()]
    return raw


def rule_from_form(form: FormData, row: FieldRow) -> dict[str, Any]:
    """The rule document the steward picked for `row`, validated (a bad parameter raises naming it)."""
    treatment = str(form.get("treatment") or "")
    options = {option["treatment"]: option for option in row.options}
    if treatment not in options:
        allowed = ", ".join(options) or "none"
        raise DeidError(f"treatment {treatment!r} does not apply to a {row.field_type} field; allowed: {allowed}")
    properties = options[treatment]["params_schema"].get("properties", {})
    params: dict[str, Any] = {}
    for name, schema in properties.items():
        kind = param_kind(schema)
        raw = form.get(f"{treatment}.{name}")
        if kind == "boolean":
            params[name] = raw in ("on", "true", "1")
            continue
        if not isinstance(raw, str) or not raw.strip():
            continue
        params[name] = _coerce(name, kind, raw.strip())
    try:
        return make_rule(treatment, **params).model_dump(mode="json")
    except ValidationError as exc:
        raise DeidError("; ".join(describe_errors(exc))) from None
