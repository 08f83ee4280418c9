"""The one policy model: which treatment each field path gets, per domain and version.

Shared by the catalog and steward UI (which must not import `pipelines`), schema inference (which
suggests draft policies) and the pipelines (which compile published ones). A policy document:

    domain: profile
    version: 3
    status: published            # draft | published
    rules:                       # field path -> rule; fields without a rule are dropped (fail closed)
      name: {treatment: mask, params: {encoding: hex, length: 16}}
      dob:                       # consent-conditional: one treatment when the row's consent allows, another when not
        min_consent_level: 1
        with_consent: {treatment: keep}
        without_consent: {treatment: redact, params: {value: REDACTED_CONTENT, flag: true}}
      items[].sku: {treatment: keep}
    purposes:                    # derived outputs, topic <domain>-<purpose>-data, rows below the level are skipped
      - name: recommender
        min_consent_level: 2
        rules: {user_id: {treatment: mask}}

Field paths: dotted names for nested objects (`a.b.c`), `[]` for array elements (`items[].x`, `tags[]`).
Parsing errors and checks against a `deid.domains.Domain` name the offending path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from deid.domains import Domain, FieldType
from deid.errors import ConfigError

TreatmentName = Literal["keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize", "anonymize_text"]
TREATMENTS: tuple[str, ...] = TreatmentName.__args__  # type: ignore[attr-defined]
GeneralizeKind = Literal["date_month", "number_bucket", "ipv4_24", "ipv6_48", "postcode_prefix"]

REDACTED_VALUE = "REDACTED_CONTENT"
REDACTED_FLAG_FIELD = "data_redacted"
"""Boolean added to output records by a `redact` rule with `flag: true` (false on rows it did not redact)."""

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\])?"
FIELD_PATH = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_KEY_NAME = r"^[a-z][a-z0-9_-]{0,47}$"
_PURPOSE_NAME = r"^[a-z][a-z0-9_]{0,47}$"
_ENTITY = r"^[A-Z][A-Z0-9_]{1,63}$"
FieldPath = Annotated[str, Field(pattern=FIELD_PATH.pattern)]


class PolicyError(ConfigError):
    """A policy document is malformed or does not fit its domain; the message names every bad path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- per-treatment parameters -------------------------------------------------------------------


class NoParams(_Strict):
    """keep and drop take no parameters."""


class RedactParams(_Strict):
    value: str = Field(REDACTED_VALUE, description="The constant that replaces the value")
    flag: bool = Field(False, description=f"Also set `{REDACTED_FLAG_FIELD}: true` on the record")


class EncryptParams(_Strict):
    key_scope: Literal["shared", "subject"] = Field(
        "shared",
        description="shared: the domain's key (rotatable); subject: one key per data subject, "
        "so erasing it crypto-shreds that person's values",
    )


class MaskParams(_Strict):
    encoding: Literal["hex", "base64url"] = Field("hex", description="Alphabet of the pseudonym")
    length: int | None = Field(None, ge=8, le=64, description="Truncate to this many characters (default: full)")
    key: str = Field(
        "default",
        pattern=_KEY_NAME,
        description="Name of the HMAC key; the same key gives the same pseudonym across fields and domains "
        "(joins work), a separate key makes an output unlinkable to the others",
    )

    @model_validator(mode="after")
    def _length_fits_encoding(self) -> MaskParams:
        if self.encoding == "base64url" and self.length is not None and self.length > 43:
            raise ValueError("length: base64url pseudonyms have at most 43 characters")
        return self


class DateShiftParams(_Strict):
    max_days: int = Field(30, ge=1, le=3650, description="Shift by a per-subject offset within ±max_days (never 0)")
    format: str | None = Field(None, description="strftime format; default: the domain field's format")


class GeneralizeParams(_Strict):
    kind: GeneralizeKind = Field(
        description="date_month: first day of the month; number_bucket: lower bound of a bucket of `size`; "
        "ipv4_24 / ipv6_48: network address; postcode_prefix: first `length` characters"
    )
    size: float | None = Field(None, gt=0, description="number_bucket: bucket width")
    length: int | None = Field(None, ge=1, le=16, description="postcode_prefix: characters kept")

    @model_validator(mode="after")
    def _kind_parameters(self) -> GeneralizeParams:
        if self.kind == "number_bucket" and self.size is None:
            raise ValueError("size: number_bucket needs a bucket 'size'")
        if self.kind == "postcode_prefix" and self.length is None:
            raise ValueError("length: postcode_prefix needs a prefix 'length'")
        if self.size is not None and self.kind != "number_bucket":
            raise ValueError("size: applies only to kind number_bucket")
        if self.length is not None and self.kind != "postcode_prefix":
            raise ValueError("length: applies only to kind postcode_prefix")
        return self


class AnonymizeTextParams(_Strict):
    entities: list[Annotated[str, Field(pattern=_ENTITY)]] = Field(
        default_factory=list, description="Presidio entity names to find in the text (empty: all)"
    )
    operator: Literal["replace", "redact"] = Field(
        "replace", description="replace: `<ENTITY>` placeholders; redact: remove the spans"
    )

    @field_validator("entities")
    @classmethod
    def _sorted_unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


# --- rules ---------------------------------------------------------------------------------------


class _TreatmentRule(_Strict):
    treatment: str
    params: _Strict
    params_model: ClassVar[type[_Strict]] = NoParams


class KeepRule(_TreatmentRule):
    treatment: Literal["keep"]
    params: NoParams = NoParams()


class DropRule(_TreatmentRule):
    treatment: Literal["drop"]
    params: NoParams = NoParams()


class RedactRule(_TreatmentRule):
    treatment: Literal["redact"]
    params: RedactParams = RedactParams()
    params_model: ClassVar[type[_Strict]] = RedactParams


class EncryptRule(_TreatmentRule):
    treatment: Literal["encrypt"]
    params: EncryptParams = EncryptParams()
    params_model: ClassVar[type[_Strict]] = EncryptParams


class MaskRule(_TreatmentRule):
    treatment: Literal["mask"]
    params: MaskParams = MaskParams()
    params_model: ClassVar[type[_Strict]] = MaskParams


class DateShiftRule(_TreatmentRule):
    treatment: Literal["date_shift"]
    params: DateShiftParams = DateShiftParams()
    params_model: ClassVar[type[_Strict]] = DateShiftParams


class GeneralizeRule(_TreatmentRule):
    treatment: Literal["generalize"]
    params: GeneralizeParams
    params_model: ClassVar[type[_Strict]] = GeneralizeParams


class AnonymizeTextRule(_TreatmentRule):
    treatment: Literal["anonymize_text"]
    params: AnonymizeTextParams = AnonymizeTextParams()
    params_model: ClassVar[type[_Strict]] = AnonymizeTextParams


TreatmentRule = Annotated[
    KeepRule | DropRule | RedactRule | EncryptRule | MaskRule | DateShiftRule | GeneralizeRule | AnonymizeTextRule,
    Field(discriminator="treatment"),
]
RULE_CLASSES: dict[str, type[_TreatmentRule]] = {
    cls.model_fields["treatment"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (KeepRule, DropRule, RedactRule, EncryptRule, MaskRule, DateShiftRule, GeneralizeRule, AnonymizeTextRule)
}


def make_rule(treatment: str, **params: Any) -> TreatmentRule:
    """A validated rule from a treatment name and its parameters (as a steward picks them)."""
    return RULE_CLASSES[treatment].model_validate({"treatment": treatment, "params": params})  # type: ignore[return-value]


class ConsentRule(_Strict):
    """One treatment when the row's consent level allows (>= min_consent_level), another when it does not."""

    min_consent_level: int = Field(1, ge=0, description="Boolean consent: true is level 1, false level 0")
    with_consent: TreatmentRule
    without_consent: TreatmentRule

    def branches(self) -> tuple[TreatmentRule, TreatmentRule]:
        return self.with_consent, self.without_consent


_RULE_TAG, _CONSENT_TAG = "<rule>", "<consent rule>"


def _rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return _CONSENT_TAG if {"with_consent", "without_consent"} & value.keys() else _RULE_TAG
    return _CONSENT_TAG if isinstance(value, ConsentRule) else _RULE_TAG


Rule = Annotated[
    Annotated[TreatmentRule, Tag(_RULE_TAG)] | Annotated[ConsentRule, Tag(_CONSENT_TAG)],
    Discriminator(_rule_kind),
]


def rule_branches(rule: Rule) -> tuple[TreatmentRule, ...]:
    """The treatment rules a rule can apply: one, or two for a consent rule."""
    return rule.branches() if isinstance(rule, ConsentRule) else (rule,)


def split_path(path: str) -> list[tuple[str, bool]]:
    """`items[].x` → [("items", True), ("x", False)]: each key and whether it holds an array."""
    return [(part.removesuffix("[]"), part.endswith("[]")) for part in path.split(".")]


def _sorted_rules(rules: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(rules.items()))


class Purpose(_Strict):
    """A derived output with its own rules, written to `<domain>-<name>-data` for the rows it admits."""

    name: str = Field(pattern=_PURPOSE_NAME)
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


class Policy(_Strict):
    domain: str
    version: int = Field(0, ge=0, description="Published versions count from 1; a draft may carry 0")
    status: Literal["draft", "published"] = "draft"
    description: str = ""
    rules: dict[FieldPath, Rule]
    purposes: list[Purpose] = Field(default_factory=list)

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
        if part in {_RULE_TAG, _CONSENT_TAG}:
            previous = part
            continue
        # After a rule tag or consent branch, pydantic names the treatment of the member it tried.
        if previous in {_RULE_TAG, "with_consent", "without_consent"} and part in TREATMENTS and not is_last:
            previous = part
            continue
        if cleaned and cleaned[-1] == "purposes" and part.isdigit():
            cleaned[-1] = f"purposes[{part}]"
        else:
            cleaned.append(part)
        previous = part
    return cleaned


# --- what each field type allows (the UI offers these; validation enforces them) -----------------

ALLOWED_TREATMENTS: dict[FieldType, tuple[str, ...]] = {
    "string": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize", "anonymize_text"),
    "text": ("keep", "drop", "redact", "encrypt", "mask", "anonymize_text"),
    "int": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "long": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "double": ("keep", "drop", "redact", "encrypt", "mask", "generalize"),
    "boolean": ("keep", "drop", "redact", "encrypt"),
    "date": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize"),
    "timestamp": ("keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize"),
}
GENERALIZE_KINDS: dict[FieldType, tuple[str, ...]] = {
    "string": ("ipv4_24", "ipv6_48", "postcode_prefix"),
    "text": (),
    "int": ("number_bucket",),
    "long": ("number_bucket",),
    "double": ("number_bucket",),
    "boolean": (),
    "date": ("date_month",),
    "timestamp": ("date_month",),
}


def treatment_options(field_type: FieldType) -> list[dict[str, Any]]:
    """For the UI: each treatment a field of this type allows, with its parameters' JSON schema."""
    options = []
    for name in ALLOWED_TREATMENTS[field_type]:
        schema = RULE_CLASSES[name].params_model.model_json_schema()
        option: dict[str, Any] = {"treatment": name, "params_schema": schema}
        if name == "generalize":
            option["kinds"] = list(GENERALIZE_KINDS[field_type])
        options.append(option)
    return options


# --- checks against the domain ---------------------------------------------------------------------


def check_policy(policy: Policy, domain: Domain, source: str = "policy") -> None:
    """Raise PolicyError listing every rule that does not fit the domain (unknown field, wrong type, …)."""
    problems = policy_problems(policy, domain)
    if problems:
        raise PolicyError("\n".join(f"{source}: {p}" for p in problems))


def policy_problems(policy: Policy, domain: Domain) -> list[str]:
    problems = []
    if policy.domain != domain.name:
        problems.append(f"domain: policy is for {policy.domain!r}, not {domain.name!r}")
    if REDACTED_FLAG_FIELD in domain.fields:
        problems.append(f"domain field {REDACTED_FLAG_FIELD!r} clashes with the redaction flag deid adds")
    for index, purpose in enumerate(policy.purposes):
        if purpose.needs_consent and domain.consent is None:
            problems.append(f"purposes[{index}]: consent levels need a domain with a consent field")
    for prefix, rules in policy.rule_sets():
        for path, rule in rules.items():
            problems.extend(_rule_problems(f"{prefix}.{path}", path, rule, domain))
    return problems


def _rule_problems(where: str, path: str, rule: Rule, domain: Domain) -> list[str]:
    spec = domain.fields.get(path)
    if spec is None:
        return [f"{where}: unknown field {path!r}; domain {domain.name!r} has: {', '.join(domain.fields)}"]
    problems = []
    if isinstance(rule, ConsentRule) and domain.consent is None:
        problems.append(f"{where}: a consent rule needs a domain with a consent field")
    for branch_name, branch in _named_branches(rule):
        at = f"{where}{branch_name}"
        allowed = ALLOWED_TREATMENTS[spec.type]
        if branch.treatment not in allowed:
            problems.append(
                f"{at}.treatment: {branch.treatment!r} does not apply to a {spec.type} field; "
                f"allowed: {', '.join(allowed)}"
            )
            continue
        problems.extend(f"{at}.params.{p}" for p in _params_problems(branch, spec.type, spec.format, domain))
    return problems


def _named_branches(rule: Rule) -> list[tuple[str, TreatmentRule]]:
    if isinstance(rule, ConsentRule):
        return [(".with_consent", rule.with_consent), (".without_consent", rule.without_consent)]
    return [("", rule)]


def _params_problems(rule: TreatmentRule, field_type: FieldType, field_format: str | None, domain: Domain) -> list[str]:
    params = rule.params
    if isinstance(params, GeneralizeParams):
        kinds = GENERALIZE_KINDS[field_type]
        if params.kind not in kinds:
            return [f"kind: {params.kind!r} does not apply to a {field_type} field; allowed: {', '.join(kinds)}"]
        if params.kind == "date_month" and not field_format:
            return ["kind: date_month needs the field's date format in the domain"]
        if params.size is not None and field_type in {"int", "long"} and params.size != int(params.size):
            return [f"size: an {field_type} field needs a whole-number bucket size"]
    if isinstance(params, DateShiftParams):
        if domain.subject_field is None:
            return ["date_shift needs the domain's subject_field (the offset is per subject)"]
        if not (params.format or field_format):
            return ["format: this field has no date format in the domain; give one"]
    if isinstance(params, EncryptParams) and params.key_scope == "subject" and domain.subject_field is None:
        return ["key_scope: 'subject' needs the domain's subject_field"]
    return []
