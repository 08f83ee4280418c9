"""Structural signals of a field: what its values look like and how they sit with the subject, not what they are.

Computed from the profile alone (no recognizer, no word list of known values), so that a column of titles the
project never saw is judged like one it did:
- cardinality: distinct values in the sample per sampled value;
- shape: the dominant shape of the values (letters → `Aa`/`a`, digits → `9`, runs collapsed: "Aa Aa"), and the
  share that is name-shaped (two to four words of letters, initials allowed);
- relation to the subject (`subjects.structure_of`): is the field a function of the subject (one value per
  subject: a name, a date of birth), or shared by many subjects (a title watched by many users);
- dates: how many years the values span and how long ago their median lies (a birth date vs an event time);
- URLs: bare host names (`bol.com`) vs URLs, and whether a URL carries personal parts (user info, an e-mail,
  an id in the path, a query parameter named like a person's data).
Every signal goes into the evidence the steward sees (`FieldSignals.as_evidence`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from schema_inference.formats import EPOCH_MILLIS
from schema_inference.stats import FieldProfile
from schema_inference.subjects import SubjectSketch, SubjectStructure, structure_of

_WORD = re.compile(r"^(?:[^\W\d_]\.|[^\W\d_]{1,3}\.|[^\W\d_][^\W\d_'\u2019\-]*)$")  # "J.", "Dr.", "O'Neil", "Jean-Luc"
_HOST = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\.?$", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_ID_SEGMENT = re.compile(r"\d{5,}|[0-9a-f]{8}-[0-9a-f]{4}-|@|^(?:user|customer|member|account|u)[-_]?\d+$", re.I)
_PARAM_WORDS = (
    "email mail e-mail user uid userid user_id username login customer customerid customer_id client clientid "
    "account accountid member memberid name firstname lastname fullname phone tel mobile msisdn token session "
    "sid sessionid auth key apikey api_key ssn dob birthdate address zip postcode"
)
_PERSONAL_PARAMS = frozenset(_PARAM_WORDS.split())


@dataclass(frozen=True)
class UrlSignals:
    hosts: float  # share of values that are bare host names (no scheme, path, query or user part)
    urls: float  # share with a scheme or a path
    personal: float  # share of all values whose URL carries a personal part
    parts: tuple[str, ...]  # which kinds of personal part were seen: userinfo, email, path id, query parameter
    ids_shared: bool = False  # the ids in the paths are shared across subjects (products), not personal


@dataclass(frozen=True)
class DateSignals:
    years_span: float  # from the earliest to the latest sampled value
    median_years_ago: float  # of the sampled values, before `today`


@dataclass(frozen=True)
class FieldSignals:
    sampled: int
    distinct_ratio: float | None  # distinct sampled strings / sampled strings
    shape: str | None  # the most common collapsed shape
    shape_share: float
    name_shaped: float  # share of sampled strings with 2-4 words of letters
    subject: SubjectStructure | None
    dates: DateSignals | None = None
    url: UrlSignals | None = None

    def as_evidence(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "distinct_ratio": self.distinct_ratio,
            "shape": self.shape,
            "shape_share": self.shape_share,
            "name_shaped": self.name_shaped,
        }
        if self.subject is not None:
            doc.update(self.subject.as_evidence())
        if self.dates is not None:
            doc["years_span"], doc["median_years_ago"] = self.dates.years_span, self.dates.median_years_ago
        if self.url is not None:
            doc.update(url_hosts=self.url.hosts, url_paths=self.url.urls, url_personal=self.url.personal)
            doc["url_personal_parts"] = list(self.url.parts)
            doc["url_path_ids_shared_across_subjects"] = self.url.ids_shared
        return doc


def collapsed_shape(text: str, limit: int = 40) -> str:
    """ "Father Brown" → "Aa Aa", "user-48213" → "a-9", "bol.com" → "a.a": classes with runs collapsed."""
    out: list[str] = []
    for char in text[:limit]:
        if char.isdigit():
            cls = "9"
        elif char.isalpha():
            cls = "A" if char.isupper() else "a"
        else:
            cls = char
        if not (out and out[-1] == cls and cls in "9a"):  # "Aaaa" → "Aa", "aaaa" → "a", "123" → "9"
            out.append(cls)
    return "".join(out) + ("…" if len(text) > limit else "")


def is_name_shaped(text: str) -> bool:
    words = [w.rstrip(",") for w in text.split()]  # "HAUGLAND, Ingrid"
    return 2 <= len(words) <= 4 and all(_WORD.match(w) for w in words) and any(len(w) > 2 for w in words)


def url_signals(values: list[str], ids_shared: bool = False) -> UrlSignals | None:
    """Host names vs URLs, and personal parts in the URLs; None when the values are not web addresses.
    With `ids_shared` (the ids in the paths are shared by many subjects: product or article ids), an id in
    the path is not a personal part."""
    hosts = urls = personal = 0
    parts: Counter[str] = Counter()
    for value in values:
        text = value.strip()
        if _HOST.match(text):
            hosts += 1
            continue
        candidate = text if _SCHEME.match(text) else f"//{text}"
        try:
            split = urlsplit(candidate)
        except ValueError:
            continue
        if not split.hostname or not _HOST.match(split.hostname) or not (split.path or split.query or split.username):
            continue
        urls += 1
        found = _personal_parts(split)
        if ids_shared:
            found.discard("path id")
        parts.update(found)
        personal += bool(found)
    if not values or (hosts + urls) / len(values) < 0.5:
        return None
    n = len(values)
    return UrlSignals(round(hosts / n, 4), round(urls / n, 4), round(personal / n, 4), tuple(sorted(parts)), ids_shared)


def _personal_parts(split: Any) -> set[str]:
    found = set()
    if split.username:
        found.add("userinfo")
    for segment in split.path.split("/"):
        if "@" in segment:
            found.add("email")
        elif _ID_SEGMENT.search(segment):
            found.add("path id")
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        if "@" in value:
            found.add("email")
        if key.lower().replace("-", "_") in _PERSONAL_PARAMS or key.lower() in _PERSONAL_PARAMS:
            found.add("query parameter")
    return found


def path_ids(text: str) -> list[str]:
    """The id-like segments of a URL's path (not e-mails): what may name a user, or only a product."""
    path = urlsplit(text if _SCHEME.match(text) else f"//{text}").path
    return [seg for seg in path.split("/") if "@" not in seg and _ID_SEGMENT.search(seg)]


def ids_shared_across_subjects(sketch: SubjectSketch | None, path: str, share: float = 0.5) -> bool:
    """Whether most URL path ids of the field are held by two or more of the sketch's subjects."""
    if sketch is None:
        return False  # unknown: an id in a path counts as personal (fail closed)
    holders: Counter[str] = Counter()
    per_subject = [
        (counts, {i for v in counts for i in path_ids(str(v))}) for counts in sketch.field_values(path).values()
    ]
    for _, ids in per_subject:
        holders.update(ids)
    with_ids = shared = 0
    for counts, _ in per_subject:
        for value, count in counts.items():
            ids = path_ids(str(value))
            if ids:
                with_ids += count
                shared += count if any(holders[i] >= 2 for i in ids) else 0
    return bool(with_ids) and shared / with_ids >= share


def date_signals(profile: FieldProfile, today: date) -> DateSignals | None:
    """Span and age of a date/timestamp field's sampled values; None when they do not parse."""
    if profile.kind not in ("date", "timestamp") or not profile.format:
        return None
    days = sorted(d for d in (_as_date(v, profile.format) for v in profile.sample) if d is not None)
    if not days:
        return None
    ages = [(today - d).days / 365.25 for d in days]
    return DateSignals(round((days[-1] - days[0]).days / 365.25, 2), round(statistics.median(ages), 2))


def _as_date(value: Any, fmt: str) -> date | None:
    try:
        if fmt == EPOCH_MILLIS:
            return datetime.fromtimestamp(int(value) / 1000, UTC).date()
        return datetime.strptime(str(value), fmt).date()
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def field_signals(profile: FieldProfile, sketch: SubjectSketch | None, today: date | None = None) -> FieldSignals:
    strings = [v for v in profile.sample if isinstance(v, str) and v]
    shapes = Counter(map(collapsed_shape, strings))
    shape, top = shapes.most_common(1)[0] if shapes else (None, 0)
    n = len(strings)
    return FieldSignals(
        sampled=len(profile.sample),
        distinct_ratio=round(len(set(strings)) / n, 4) if n else None,
        shape=shape,
        shape_share=round(top / n, 4) if n else 0.0,
        name_shaped=round(sum(map(is_name_shaped, strings)) / n, 4) if n else 0.0,
        subject=structure_of(sketch, profile.path) if sketch is not None else None,
        dates=date_signals(profile, today or datetime.now(UTC).date()),
        url=_urls(strings, sketch, profile.path) if n else None,
    )


def _urls(strings: list[str], sketch: SubjectSketch | None, path: str) -> UrlSignals | None:
    found = url_signals(strings)
    if found is not None and "path id" in found.parts and ids_shared_across_subjects(sketch, path):
        return url_signals(strings, ids_shared=True)
    return found
