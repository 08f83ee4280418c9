"""The domain registry: event families, their fields, subject, consent and topic names.

The catalog owns the domains (`deid_domain` entities); this file is the model they carry, the
`DomainSource` interface everything reads them through, and the seed: `deid/domains.yaml` plus the
config file's `domains:` (`load_registry`), which the catalog imports on its first start and producers
fall back to when the catalog cannot be reached (`FallbackDomains`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol, runtime_checkable

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deid.errors import ConfigError
from deid.settings import CONFIG_ENV

FieldType = Literal["string", "text", "int", "long", "double", "boolean", "date", "timestamp"]
_NAME = r"^[a-z][a-z0-9_]{0,47}$"


class DomainError(ConfigError):
    """The registry is invalid, or a domain is unknown; the message names domain and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    type: FieldType
    format: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _format_for_dates(self) -> FieldSpec:
        if self.type in {"date", "timestamp"} and not self.format:
            raise ValueError(f"a {self.type} field needs a strftime 'format'")
        if self.format and self.type not in {"date", "timestamp"}:
            raise ValueError("'format' applies only to date and timestamp fields")
        return self


class ConsentSpec(_Strict):
    """How a row's consent is read: a boolean flag (true = level 1) or raw values mapped to levels."""

    field: str
    kind: Literal["boolean", "levels"]
    levels: dict[str, int] | None = None
    default_level: int = 0
    scope: Literal["row", "subject"] = Field(
        "row",
        description="row: each row's own consent decides; subject: consent is the person's, so a row that "
        "lowers it (an opt-out) caps every later row of that subject until an explicit opt-in "
        "(`deid subject grant`)",
    )

    @model_validator(mode="after")
    def _levels_match_kind(self) -> ConsentSpec:
        if self.kind == "levels" and not self.levels:
            raise ValueError("kind 'levels' needs a 'levels' mapping of raw values to integers")
        if self.kind == "boolean" and self.levels is not None:
            raise ValueError("kind 'boolean' takes no 'levels' (false = 0, true = 1)")
        return self

    @property
    def max_level(self) -> int:
        return 1 if self.kind == "boolean" else max((self.levels or {}).values(), default=0)

    def level_of(self, raw: Any) -> int:
        """The consent level of one row's raw value; missing or unknown → default_level."""
        if self.kind == "boolean":
            return 1 if raw is True else 0 if raw is False else self.default_level
        assert self.levels is not None
        key = str(raw).lower() if isinstance(raw, bool) else str(raw)
        return self.levels.get(key, self.default_level) if raw is not None else self.default_level


class Domain(_Strict):
    name: str = Field(pattern=_NAME)
    description: str = ""
    subject_field: str | None
    event_time_field: str | None = None
    consent: ConsentSpec | None = None
    region: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="Region its raw data is collected in (default: the raw cluster's, DEID_REGION)",
    )
    fields: dict[str, FieldSpec] = Field(min_length=1)
    quasi_identifiers: list[str] = Field(
        default_factory=list,
        description="Fields that together may single a person out (dob, gender, postcode, …): the "
        "re-identification risk (k-anonymity) of the anonymised output is measured over them",
    )
    target_k: int = Field(5, ge=2, le=1000, description="The k every equivalence class should reach")

    @model_validator(mode="after")
    def _references_exist(self) -> Domain:
        for key, value in (
            ("subject_field", self.subject_field),
            ("event_time_field", self.event_time_field),
            ("consent.field", self.consent.field if self.consent else None),
            *((f"quasi_identifiers[{i}]", q) for i, q in enumerate(self.quasi_identifiers)),
        ):
            if value is not None and value not in self.fields:
                raise ValueError(f"{key} {value!r} is not one of the domain's fields")
        if len(set(self.quasi_identifiers)) != len(self.quasi_identifiers):
            raise ValueError("quasi_identifiers: a field is named twice")
        return self

    @property
    def raw_topic(self) -> str:
        return f"{self.name}-raw-data"

    @property
    def anonymised_topic(self) -> str:
        return f"{self.name}-anonymised-data"

    @property
    def dlq_topic(self) -> str:
        return f"{self.name}-dlq"

    @property
    def topics(self) -> tuple[str, str, str]:
        return self.raw_topic, self.anonymised_topic, self.dlq_topic

    def to_document(self) -> dict[str, Any]:
        """The definition as plain JSON, without the name (the shape of a `domains:` entry): what the catalog
        stores, so every field of this model, present and future, travels with the domain."""
        return self.model_dump(mode="json", exclude={"name"})


@runtime_checkable
class DomainSource(Protocol):
    """Where a process reads domains: the catalog (`catalog.domain_api.CatalogDomains`), a fixed registry
    (`DomainRegistry`: the seed, a test's own domains) or the catalog with the seed behind it
    (`FallbackDomains`, producers only)."""

    def get(self, name: str) -> Domain:
        """The domain called `name`; DomainError naming the known ones if there is none."""
        ...

    def registry(self) -> DomainRegistry:
        """Every domain known now."""
        ...

    def describe(self) -> str:
        """Where the domains come from, for messages (no credentials)."""
        ...


class DomainRegistry:
    """The validated set of domains, looked up by name (a `DomainSource` that never changes)."""

    def __init__(self, domains: dict[str, Domain]) -> None:
        self._domains = dict(sorted(domains.items()))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._domains.values())

    def __len__(self) -> int:
        return len(self._domains)

    @property
    def names(self) -> list[str]:
        return list(self._domains)

    def get(self, name: str) -> Domain:
        try:
            return self._domains[name]
        except KeyError:
            raise DomainError(f"unknown domain {name!r}; known domains: {', '.join(self.names)}") from None

    def select(self, names: list[str] | None) -> list[Domain]:
        """The named domains (each checked), or all when `names` is empty or None."""
        return [self.get(n) for n in names] if names else list(self)

    def registry(self) -> DomainRegistry:
        return self

    def describe(self) -> str:
        return "the domain seed (deid/domains.yaml and the config file's domains:)"


class SourceUnavailable(DomainError):
    """A domain source could not be read at all (e.g. the catalog is down), as opposed to an unknown name."""


class FallbackDomains:
    """`primary` (the catalog) first; `fallback` (the seed) when the primary cannot be read or lacks the name.
    Only producers use it: they may run before, or away from, the catalog."""

    def __init__(self, primary: DomainSource, fallback: DomainSource, warn: Any = None) -> None:
        self.primary, self.fallback, self.warn = primary, fallback, warn

    def get(self, name: str) -> Domain:
        try:
            return self.primary.get(name)
        except DomainError as exc:
            try:
                domain = self.fallback.get(name)
            except DomainError as missing:
                if isinstance(exc, SourceUnavailable):  # the seed's "unknown, known are …" says more
                    raise DomainError(f"{missing} ({exc})") from None
                raise DomainError(f"{exc} (and not in {self.fallback.describe()} either)") from None
            if self.warn is not None:
                self.warn(f"domain {name!r} read from {self.fallback.describe()}: {exc}")
            return domain

    def registry(self) -> DomainRegistry:
        try:
            primary = self.primary.registry()
        except SourceUnavailable as exc:
            if self.warn is not None:
                self.warn(f"domains read from {self.fallback.describe()}: {exc}")
            return self.fallback.registry()
        return DomainRegistry({**{d.name: d for d in self.fallback.registry()}, **{d.name: d for d in primary}})

    def describe(self) -> str:
        return f"{self.primary.describe()}, else {self.fallback.describe()}"


def _builtin_document() -> dict[str, Any]:
    text = resources.files("deid").joinpath("domains.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def parse_domain(name: str, body: Any, source: str) -> Domain:
    """One `{name: definition}` entry validated; errors name the source, the domain and the key."""
    return parse_domains({name: body}, source)[name]


def parse_domains(document: Any, source: str) -> dict[str, Domain]:
    """Validate a `{domain: definition}` mapping; errors name the source, the domain and the key."""
    if not isinstance(document, dict):
        raise DomainError(f"{source}: 'domains' must be a mapping of domain name to definition")
    domains = {}
    for name, body in document.items():
        if not isinstance(body, dict):
            raise DomainError(f"{source}: domain {name!r}: definition must be a mapping")
        try:
            domains[name] = Domain(name=name, **body)
        except ValidationError as exc:
            raise DomainError(_format(source, str(name), exc)) from None
        except TypeError as exc:  # e.g. a key given twice
            raise DomainError(f"{source}: domain {name!r}: {exc}") from None
    return domains


def _format(source: str, domain: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "(definition)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: domain {domain!r}: unknown key {key!r}")
        elif err["type"] == "missing":
            lines.append(f"{source}: domain {domain!r}: missing key {key!r}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: domain {domain!r}: key {key!r}: {msg}")
    return "\n".join(lines)


def build_registry(overrides: dict[str, Any] | None = None, source: str = "config") -> DomainRegistry:
    """The built-in domains, with `overrides` (from the config file) replacing or adding by name."""
    document = _builtin_document()
    builtin = parse_domains(document.get("domains"), "deid/domains.yaml")
    if overrides:
        builtin.update(parse_domains(overrides, source))
    return DomainRegistry(builtin)


@cache
def _cached_builtin() -> DomainRegistry:
    return build_registry()


def load_registry(settings: Any | None = None) -> DomainRegistry:
    """The registry in force for these settings (built-ins plus the config file's `domains:`)."""
    overrides = getattr(settings, "domains", None)
    if not overrides:
        return _cached_builtin()
    return build_registry(overrides, source=getattr(settings, "config_source", CONFIG_ENV))
