"""Treatments, their typed parameters, and rules: one treatment, or two chosen by the row's consent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from deid.errors import ConfigError

TreatmentName = Literal["keep", "drop", "redact", "encrypt", "mask", "date_shift", "generalize", "anonymize_text"]
TREATMENTS: tuple[str, ...] = TreatmentName.__args__  # type: ignore[attr-defined]
GeneralizeKind = Literal[
    "date_month", "date_year", "number_bucket", "ipv4_24", "ipv6_48", "postcode_prefix", "url_site"
]

REDACTED_VALUE = "REDACTED_CONTENT"
REDACTED_FLAG_FIELD = "data_redacted"
"""Boolean added to output records by a `redact` rule with `flag: true` (false on rows it did not redact)."""

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\])?"
FIELD_PATH = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_KEY_NAME = r"^[a-z][a-z0-9_-]{0,47}$"
PURPOSE_NAME = r"^[a-z][a-z0-9_]{0,47}$"
_ENTITY = r"^[A-Z][A-Z0-9_]{1,63}$"
FieldPath = Annotated[str, Field(pattern=FIELD_PATH.pattern)]


class PolicyError(ConfigError):
    """A policy document is malformed or does not fit its domain; the message names every bad path."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- per-treatment parameters -------------------------------------------------------------------


class NoParams(StrictModel):
    """keep and drop take no parameters."""


class RedactParams(StrictModel):
    value: str = Field(REDACTED_VALUE, description="The constant that replaces the value")
    flag: bool = Field(False, description=f"Also set `{REDACTED_FLAG_FIELD}: true` on the record")


EncryptMode = Literal["fernet", "deterministic", "fpe"]
FpeAlphabet = Literal["digits", "alphanumeric"]


class EncryptParams(StrictModel):
    mode: EncryptMode = Field(
        "fernet",
        description="fernet: randomised token (default); deterministic: AES-SIV, the same value gives the same "
        "token (joins work); fpe: FF1 format-preserving, digits stay digits and the length is kept",
    )
    alphabet: FpeAlphabet | None = Field(
        None, description="fpe: the characters encrypted (others, like dashes, stay in place); default digits"
    )
    key_scope: Literal["shared", "subject"] = Field(
        "shared",
        description="shared: the domain's key (rotatable); subject: one key per data subject, "
        "so erasing it crypto-shreds that person's values",
    )

    @model_validator(mode="after")
    def _mode_parameters(self) -> EncryptParams:
        if self.alphabet is not None and self.mode != "fpe":
            raise ValueError("alphabet: applies only to mode fpe")
        if self.mode == "fpe" and self.key_scope == "subject":
            # A format-preserving token has no room for a key id, so the subject's key could not be found.
            raise ValueError("key_scope: mode fpe uses the domain's key; use mode deterministic for per-subject keys")
        return self

    @property
    def label(self) -> str:
        """How the anonymised schema documents this encryption (`encrypt`, `encrypt(fpe-digits)`, …)."""
        if self.mode == "fernet":
            return "encrypt"
        if self.mode == "fpe":
            return f"encrypt(fpe-{self.alphabet or 'digits'})"
        return "encrypt(deterministic)"


class MaskParams(StrictModel):
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


class DateShiftParams(StrictModel):
    max_days: int = Field(30, ge=1, le=3650, description="Shift by a per-subject offset within ±max_days (never 0)")
    format: str | None = Field(None, description="strftime format; default: the domain field's format")


class GeneralizeParams(StrictModel):
    kind: GeneralizeKind = Field(
        description="date_month: first day of the month; date_year: first day of the year; "
        "number_bucket: lower bound of a bucket of `size`; "
        "ipv4_24 / ipv6_48: network address; postcode_prefix: first `length` characters; "
        "url_site: the URL's site only (scheme://host/: user info, path, query and fragment removed)"
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


class AnonymizeTextParams(StrictModel):
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


class Exemption(StrictModel):
    """Why a field tagged PII may leave in clear: a steward's reason, who gave it and when.

    Required at publish for every `keep` of a PII-tagged field (and by the region guard for raw egress);
    the catalog stamps `by` and `at` from the publishing user and time when the document leaves them out.
    """

    reason: str = Field(min_length=1, max_length=1000, description="Why keeping this field in clear is allowed")
    by: str | None = Field(None, max_length=200, description="Who granted it (stamped by the catalog at publish)")
    at: datetime | None = Field(None, description="When it was granted (stamped by the catalog at publish)")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an exemption needs a non-blank reason")
        return value.strip()


class _TreatmentRule(StrictModel):
    treatment: str
    params: StrictModel
    params_model: ClassVar[type[StrictModel]] = NoParams
    exemption: Exemption | None = None

    @model_validator(mode="after")
    def _exemption_only_on_keep(self) -> _TreatmentRule:
        if self.exemption is not None and self.treatment != "keep":
            raise ValueError(f"exemption: only a keep rule leaves a value in clear; {self.treatment!r} needs none")
        return self


class KeepRule(_TreatmentRule):
    treatment: Literal["keep"]
    params: NoParams = NoParams()


class DropRule(_TreatmentRule):
    treatment: Literal["drop"]
    params: NoParams = NoParams()


class RedactRule(_TreatmentRule):
    treatment: Literal["redact"]
    params: RedactParams = RedactParams()
    params_model: ClassVar[type[StrictModel]] = RedactParams


class EncryptRule(_TreatmentRule):
    treatment: Literal["encrypt"]
    params: EncryptParams = EncryptParams()
    params_model: ClassVar[type[StrictModel]] = EncryptParams


class MaskRule(_TreatmentRule):
    treatment: Literal["mask"]
    params: MaskParams = MaskParams()
    params_model: ClassVar[type[StrictModel]] = MaskParams


class DateShiftRule(_TreatmentRule):
    treatment: Literal["date_shift"]
    params: DateShiftParams = DateShiftParams()
    params_model: ClassVar[type[StrictModel]] = DateShiftParams


class GeneralizeRule(_TreatmentRule):
    treatment: Literal["generalize"]
    params: GeneralizeParams
    params_model: ClassVar[type[StrictModel]] = GeneralizeParams


class AnonymizeTextRule(_TreatmentRule):
    treatment: Literal["anonymize_text"]
    params: AnonymizeTextParams = AnonymizeTextParams()
    params_model: ClassVar[type[StrictModel]] = AnonymizeTextParams


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


class ConsentRule(StrictModel):
    """One treatment when the row's consent level allows (>= min_consent_level), another when it does not."""

    min_consent_level: int = Field(1, ge=0, description="Boolean consent: true is level 1, false level 0")
    with_consent: TreatmentRule
    without_consent: TreatmentRule

    def branches(self) -> tuple[TreatmentRule, TreatmentRule]:
        return self.with_consent, self.without_consent


RULE_TAG, CONSENT_RULE_TAG = "<rule>", "<consent rule>"


def _rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return CONSENT_RULE_TAG if {"with_consent", "without_consent"} & value.keys() else RULE_TAG
    return CONSENT_RULE_TAG if isinstance(value, ConsentRule) else RULE_TAG


Rule = Annotated[
    Annotated[TreatmentRule, Tag(RULE_TAG)] | Annotated[ConsentRule, Tag(CONSENT_RULE_TAG)],
    Discriminator(_rule_kind),
]


def rule_branches(rule: Rule) -> tuple[TreatmentRule, ...]:
    """The treatment rules a rule can apply: one, or two for a consent rule."""
    return rule.branches() if isinstance(rule, ConsentRule) else (rule,)


def named_branches(rule: Rule) -> list[tuple[str, TreatmentRule]]:
    """(suffix of the document path, treatment rule) for each branch: `""` or `.with_consent`/`.without_consent`."""
    if isinstance(rule, ConsentRule):
        return [(".with_consent", rule.with_consent), (".without_consent", rule.without_consent)]
    return [("", rule)]
