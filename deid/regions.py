"""Regions and sides: where data may go. Storage locations (bucket prefixes, local folders) and Kafka clusters
each sit in a region (`eu`, `us`, …) on a side (`raw` or `anonymised`).

The region guard (`check_egress`) runs before any job writes: a job reading raw data of region R may write
untreated values only to the raw side of R. Output in another region, or on the anonymised side, is refused
while any rule of the policy keeps a PII-tagged field in clear without a steward's exemption
(`deid.policy.kept_in_clear`). Field tags come from the catalog; when they are unknown every kept field
counts as PII (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from deid.errors import ConfigError
from deid.policy import Policy, kept_in_clear
from deid.policy.rules import StrictModel

Side = Literal["raw", "anonymised"]
REGION = r"^[a-z][a-z0-9-]{0,31}$"
UNKNOWN_TAG = "an unknown tag (no catalog tags: every kept field counts as PII)"
_URI = re.compile(r"^(s3a?)://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")


class RegionGuardError(ConfigError):
    """A job would let untreated data leave its region or reach the anonymised side (exit code 2)."""


class StorageLocation(StrictModel):
    """A bucket prefix (`s3a://bucket/prefix/`) or a local folder, in one region, on one side."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")
    uri: str
    region: str = Field(pattern=REGION)
    side: Side
    endpoint: str | None = Field(None, description="S3 endpoint URL of this region (http://host:port)")

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if "://" in value and not _URI.match(value):
            raise ValueError("expected s3a://bucket/prefix/ (bucket: 3-63 lower-case letters, digits, '.', '-')")
        return value if value.endswith("/") else value + "/"

    def contains(self, uri: str) -> bool:
        return normalise_uri(uri).startswith(normalise_uri(self.uri))


def normalise_uri(uri: str) -> str:
    """`s3://b/p` and `s3a://b/p/` name the same prefix; local paths end with one `/`."""
    text = uri.replace("s3://", "s3a://", 1) if uri.startswith("s3://") else uri
    return text if text.endswith("/") else text + "/"


def parse_locations(entries: Sequence[Any], source: str = "DEID_STORAGE_LOCATIONS") -> list[StorageLocation]:
    """Validate the configured locations; errors name the entry and key."""
    locations = []
    for index, entry in enumerate(entries):
        try:
            locations.append(StorageLocation.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            key = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise ConfigError(f"{source}[{index}].{key}: {err['msg'].removeprefix('Value error, ')}") from None
    names = [loc.name for loc in locations]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: location names must be unique (got {', '.join(names)})")
    return locations


def locate(uri: str, locations: Sequence[StorageLocation]) -> StorageLocation | None:
    """The most specific configured location holding `uri`, or None."""
    found = [loc for loc in locations if loc.contains(uri)]
    return max(found, key=lambda loc: len(loc.uri)) if found else None


@dataclass(frozen=True)
class Egress:
    """Where a job reads (raw, region `source_region`) and where it writes."""

    source: str
    source_region: str
    target: str
    target_region: str
    target_side: Side

    @property
    def crosses(self) -> bool:
        return self.target_region != self.source_region or self.target_side == "anonymised"


def check_egress(egress: Egress, policy: Policy, pii: Mapping[str, str] | None) -> list[str]:
    """Refuse (RegionGuardError) untreated PII leaving the raw side of its region; the exempted keeps that let
    PII through (to be audited by the caller). `pii`: field path → entity from the catalog, None if unknown."""
    if not egress.crosses:
        return []
    tags: Mapping[str, str] = pii if pii is not None else _every_field(policy)
    kept = kept_in_clear(policy, tags)
    blocked = [k for k in kept if k.exemption is None]
    if blocked:
        first = blocked[0]
        more = f" (and {len(blocked) - 1} more: {', '.join(k.where for k in blocked[1:])})" if len(blocked) > 1 else ""
        tag = UNKNOWN_TAG if pii is None else f"tagged {first.entity}"
        raise RegionGuardError(
            f"region guard: rule {first.where} keeps {first.path!r} ({tag}) in clear, and the output "
            f"{egress.target} is in region {egress.target_region} ({egress.target_side} side) while the input "
            f"{egress.source} is raw data of region {egress.source_region}{more}; treat the field, or have a "
            "steward publish the rule with 'exemption: {reason: …}'"
        )
    return [f"{k.where} ({k.path}: {k.exemption.reason})" for k in kept if k.exemption is not None]


def _every_field(policy: Policy) -> dict[str, str]:
    paths = {path for _, rules in policy.rule_sets() for path in rules}
    return dict.fromkeys(paths, "UNKNOWN")
