"""generalize: a coarser value of the same kind (idempotent: generalising twice changes nothing).

date_month       first day of the month (time 00:00:00), in the field's format
date_year        first day of the year (1 January, 00:00:00): a date of birth becomes a birth year
number_bucket    lower bound of the bucket of width `size` (ints stay ints)
ipv4_24          the /24 network address (192.0.2.77 → 192.0.2.0)
ipv6_48          the /48 network address (2001:db8:1:2::5 → 2001:db8:1::)
postcode_prefix  the first `length` characters (surrounding spaces removed)
url_site         the site of a URL: `scheme://host[:port]/` (user info, path, query, fragment removed), so
                 visits per site still count while the parts that carry ids or e-mails go
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any
from urllib.parse import urlsplit

from deid.policy import GeneralizeParams
from pipelines.transforms.base import FieldContext, FieldFunction, Transform, TreatmentError
from pipelines.transforms.dates import DateCodec

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+")  # a name or an IPv4/IPv6 address (urlsplit lower-cases it)


class Generalize(Transform):
    name = "generalize"

    def compile(self, params: GeneralizeParams, field: FieldContext) -> FieldFunction:  # type: ignore[override]
        path = field.path
        if params.kind in {"date_month", "date_year"}:
            return _date_month(DateCodec(field.spec.format or ""), path, year=params.kind == "date_year")
        if params.kind == "number_bucket":
            assert params.size is not None
            return _number_bucket(params.size, field.spec.type in {"int", "long"}, path)
        if params.kind == "ipv4_24":
            return _network(ipaddress.IPv4Address, 0xFFFFFF00, path, "an IPv4 address")
        if params.kind == "ipv6_48":
            return _network(ipaddress.IPv6Address, ((1 << 48) - 1) << 80, path, "an IPv6 address")
        if params.kind == "url_site":
            return _url_site(path)
        assert params.length is not None
        return _prefix(params.length, path)


def _date_month(codec: DateCodec, path: str, year: bool = False) -> FieldFunction:
    first = {"month": 1, "day": 1} if year else {"day": 1}

    def to_month(value: Any, _subject: Any) -> str:
        if not isinstance(value, str):
            raise TreatmentError(path, f"expected a date string, got a {type(value).__name__}")
        try:
            parsed = codec.parse(value)
        except ValueError as exc:
            raise TreatmentError(path, str(exc)) from None
        return codec.format_date(parsed.replace(**first, hour=0, minute=0, second=0, microsecond=0))

    return to_month


def bucket_floor(value: float, size: float) -> float:
    """The largest multiple k*size <= value, robust to float rounding (so it is idempotent)."""
    k = math.floor(value / size)
    if k * size > value:
        k -= 1
    elif (k + 1) * size <= value:
        k += 1
    return k * size


def _number_bucket(size: float, integral: bool, path: str) -> FieldFunction:
    whole = int(size) if integral else None

    def to_bucket(value: Any, _subject: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TreatmentError(path, f"expected a number, got a {type(value).__name__}")
        if whole is not None and isinstance(value, int):
            return value - value % whole
        if not math.isfinite(value):
            raise TreatmentError(path, "expected a finite number")
        return bucket_floor(float(value), size)

    return to_bucket


def _network(address_type: Any, mask: int, path: str, what: str) -> FieldFunction:
    def to_network(value: Any, _subject: Any) -> str:
        try:
            address = address_type(value)
        except (ValueError, TypeError):
            raise TreatmentError(path, f"expected {what}") from None
        return str(address_type(int(address) & mask))

    return to_network


def _prefix(length: int, path: str) -> FieldFunction:
    def to_prefix(value: Any, _subject: Any) -> str:
        if not isinstance(value, str):
            raise TreatmentError(path, f"expected a postcode string, got a {type(value).__name__}")
        return value.strip()[:length].rstrip()

    return to_prefix


def _url_site(path: str) -> FieldFunction:
    def to_site(value: Any, _subject: Any) -> str:
        if not isinstance(value, str):
            raise TreatmentError(path, f"expected a URL string, got a {type(value).__name__}")
        text = value.strip()
        has_scheme = _SCHEME.match(text) is not None
        try:
            split = urlsplit(text if has_scheme else f"//{text}")
            host, port = split.hostname, split.port
        except ValueError:
            raise TreatmentError(path, "expected a URL") from None
        if not host or not _HOST.fullmatch(host):
            raise TreatmentError(path, "expected a URL with a host")
        host = f"[{host}]" if ":" in host else host
        site = f"{host}:{port}" if port else host
        return f"{split.scheme}://{site}/" if has_scheme else f"{site}/"

    return to_site
