"""The policy document: rules per field path, purposes, versions; YAML/JSON import and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from deid.domains import Domain
from deid.policy.rules import (
    CONSENT_RULE_TAG,
    PURPOSE_NAME,
    RULE_TAG,
    TREATMENTS,
    FieldPath,
    PolicyError,
    Rule,
    StrictModel,
)


def split_path(path: str) -> list[tuple[str, bool]]:
    """`items[].x` → [("items", True), ("x", False)]: each key and whether it holds an array."""
    return [(part.removesuffix("[]"), part.endswith("[]")) for part in path.split(".")]


def _sorted_rules(rules: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(rules.items()))


class Purpose(StrictModel):
    """A derived output with its own rules, written to `<domain>-<name>-data` for the rows it admits."""

    name: str = Field(pattern=PURPOSE_NAME)
    description: str = ""
    min_consent_level: int | None = Field(None, ge=0, description="Cumulative: rows at this level or above")
    consent_levels: list[int] | None = Field(None, min_length=1, description="Granular: rows at exactly these levels")
    rules: dict[FieldPath, Rule]

    @field_validator("rules")
    @classmethod
    def _paths(cls, rules: dict[str, Any]) -> dict[str, Any]:
        return _sorted_rules(rules)

    @field_validator("consent_levels")
    @classmethod
    def _sorted_levels(cls, value: list[int] | None) -> list[int] | None:
        return sorted(set(value)) if value is not None else None

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in {"raw", "anonymised", "dlq"}:
            raise ValueError(f"{value!r} is reserved for the domain's own topics")
        return value

    @model_validator(mode="after")
    def _one_kind_of_level(self) -> Purpose:
        if self.min_consent_level is not None and self.consent_levels is not None:
            raise ValueError("give either min_consent_level (cumulative) or consent_levels (granular), not both")
        return self

    @property
    def needs_consent(self) -> bool:
        return self.min_consent_level is not None or self.consent_levels is not None

    def admits(self, level: int | None) -> bool:
        """Whether a row at this consent level goes to this purpose's output."""
        if self.min_consent_level is not None:
            return level is not None and level >= self.min_consent_level
        if self.consent_levels is not None:
            return level in self.consent_levels
        return True


class Policy(StrictModel):
    domain: str
    version: int = Field(0, ge=0, description="Published versions count from 1; a draft may carry 0")
    status: Literal["draft", "published"] = "draft"
    description: str = ""
    rules: dict[FieldPath, Rule]
    purposes: list[Purpose] = Field(default_factory=list)
    k_anonymity: Literal["measure", "suppress"] = Field(
        "measure",
        description="measure: the worker reports k-anonymity over the domain's quasi-identifiers; suppress: it also "
        "sets a record's quasi-identifiers to null in every output when fewer than the domain's target k records "
        "of its recent window share them (counted)",
    )

    @field_validator("rules")
    @classmethod
    def _paths(cls, rules: dict[str, Any]) -> dict[str, Any]:
        return _sorted_rules(rules)

    @field_validator("purposes")
    @classmethod
    def _unique_purposes(cls, purposes: list[Purpose]) -> list[Purpose]:
        names = [p.name for p in purposes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"purpose name(s) given twice: {', '.join(duplicates)}")
        return sorted(purposes, key=lambda p: p.name)

    @model_validator(mode="after")
    def _published_has_version(self) -> Policy:
        if self.status == "published" and self.version < 1:
            raise ValueError("version: a published policy has a version >= 1")
        return self

    def purpose_topic(self, purpose: Purpose | str) -> str:
        name = purpose if isinstance(purpose, str) else purpose.name
        return f"{self.domain}-{name}-data"

    def rule_sets(self) -> Iterator[tuple[str, dict[str, Rule]]]:
        """(document path prefix, rules) for the main output and each purpose."""
        yield "rules", self.rules
        for index, purpose in enumerate(self.purposes):
            yield f"purposes[{index}].rules", purpose.rules

    def uncovered_fields(self, domain: Domain) -> list[str]:
        """Domain fields the main rules do not cover: the pipeline drops them."""
        return [f for f in domain.fields if f not in self.rules]

    # --- export (stable ordering so policies diff cleanly in git) ---

    def to_document(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude_none=True)
        for rule_set in (body["rules"], *(p["rules"] for p in body.get("purposes", []))):
            for rule in rule_set.values():
                for branch in (rule, rule.get("with_consent"), rule.get("without_consent")):
                    if isinstance(branch, dict) and branch.get("params") == {}:
                        del branch["params"]
        for purpose in body.get("purposes", []):
            if not purpose.get("description"):
                purpose.pop("description", None)
        if not body["purposes"]:
            del body["purposes"]
        if not body["description"]:
            del body["description"]
        if body["k_anonymity"] == "measure":
            del body["k_anonymity"]  # the default: documents written before the flag stay byte for byte
        return body

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_document(), sort_keys=False, default_flow_style=False, allow_unicode=True)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_document(), indent=indent, ensure_ascii=False)

    # --- import ---

    @classmethod
    def from_document(cls, document: Any, source: str = "policy") -> Policy:
        if not isinstance(document, dict):
            raise PolicyError(f"{source}: a policy document must be a mapping (domain, version, status, rules, …)")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise PolicyError("\n".join(f"{source}: {line}" for line in describe_errors(exc))) from None

    @classmethod
    def from_yaml(cls, text: str, source: str = "policy") -> Policy:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise PolicyError(f"{source}: not valid YAML{where}") from None
        return cls.from_document(document, source)

    @classmethod
    def from_json(cls, text: str, source: str = "policy") -> Policy:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{source}: not valid JSON at line {exc.lineno}") from None
        return cls.from_document(document, source)

    @classmethod
    def load(cls, path: Path) -> Policy:
        """Read a policy file; `.json` is JSON, anything else YAML (JSON is valid YAML too)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"{path}: cannot read policy file ({exc.strerror})") from None
        return cls.from_json(text, str(path)) if path.suffix == ".json" else cls.from_yaml(text, str(path))


def describe_errors(exc: ValidationError) -> list[str]:
    """Pydantic errors as `path: problem` lines, with the union tags taken out of the path."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        path = _clean_loc(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            what = "parameter" if len(path) >= 2 and path[-2] == "params" else "key"
            lines.append(f"{'.'.join(path)}: unknown {what} {path[-1]!r}")
        elif kind == "union_tag_invalid":
            tag = err.get("ctx", {}).get("tag")
            lines.append(f"{'.'.join(path)}: unknown treatment {tag!r}; known: {', '.join(TREATMENTS)}")
        elif kind == "union_tag_not_found":
            lines.append(f"{'.'.join(path)}: missing 'treatment' (one of {', '.join(TREATMENTS)})")
        elif kind == "missing":
            lines.append(f"{'.'.join(path[:-1]) or '(policy)'}: missing key {path[-1]!r}")
        elif path and path[-1] == "[key]":
            lines.append(
                f"{'.'.join(path[:-1])}: invalid field path; use dotted names (a.b.c) and [] for arrays (items[].x)"
            )
        else:
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{'.'.join(path) or '(policy)'}: {message}")
    return lines


def _clean_loc(loc: list[str]) -> list[str]:
    cleaned: list[str] = []
    previous = ""
    for index, part in enumerate(loc):
        is_last = index == len(loc) - 1
        if part in {RULE_TAG, CONSENT_RULE_TAG}:
            previous = part
            continue
        # After a rule tag or consent branch, pydantic names the treatment of the member it tried.
        if previous in {RULE_TAG, "with_consent", "without_consent"} and part in TREATMENTS and not is_last:
            previous = part
            continue
        if cleaned and cleaned[-1] == "purposes" and part.isdigit():
            cleaned[-1] = f"purposes[{part}]"
        else:
            cleaned.append(part)
        previous = part
    return cleaned
