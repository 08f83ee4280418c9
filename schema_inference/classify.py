"""Which entity a field holds, decided from what an analyzer found in its sampled values.

The executors analyse each sampled value (`analyze_values`, one analyzer per partition) and tally per field
(`Findings`: how many values had each entity, their mean and max score); the driver merges the tallies and
`decide` applies one explainable rule per field:

1. Free text (long values, many words) with entities in many values → FREE_TEXT, treated with anonymize_text
   over the entities found.
2. A date/timestamp format held by every value (from the profile) → DATE_TIME.
3. An entity found in at least `share` (0.6) of the non-null sampled values → that entity; or one the field's
   name points to (phone, e-mail, iban, …, in several languages) in at least `share_with_name` (0.3).
4. Otherwise NON_PII: a column of TV titles where a few look like names stays NON_PII.

Confidence is 0.6 * share + 0.4 * mean score (+0.15 when the name agrees), at most 0.99; for NON_PII it is
1 - the best entity's share. Thresholds live in `Thresholds` so they can be tuned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Protocol

from deid.tags import FREE_TEXT, NON_PII
from schema_inference.profile import ProfileSummary
from schema_inference.stats import FieldProfile

DATE_TIME = "DATE_TIME"


@dataclass(frozen=True)
class Thresholds:
    share: float = 0.6  # of non-null sampled values with the entity
    share_with_name: float = 0.3  # ... when the field's name points to that entity
    name_bonus: float = 0.15  # added to the confidence when the name agrees
    text_tokens: float = 6.0  # mean words per value from which a field is free text
    text_length: float = 60.0  # ... or mean characters per value
    text_share: float = 0.3  # free text is PII when this share of values has an entity
    text_entities_per_value: float = 1.0  # ... or this many findings per value on average
    text_entity_min_share: float = 0.02  # an entity joins a free-text field's set from this share


DEFAULT_THRESHOLDS = Thresholds()


# --- field-name signal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameHint:
    """Words in a field name that point to a kind of personal data, and the entities that confirm it."""

    category: str
    entities: frozenset[str]
    words: frozenset[str]  # match a word of the name, or two adjacent words joined ("a_party" → "aparty")
    whole: frozenset[str] = frozenset()  # match only the whole name ("user", "name")


def _hint(category: str, entities: str, words: str, whole: str = "") -> NameHint:
    return NameHint(category, frozenset(entities.split()), frozenset(words.split()), frozenset(whole.split()))


# Specific before general: "ip_address" is an IP address before it is an address.
NAME_HINTS: tuple[NameHint, ...] = (
    _hint("email", "EMAIL_ADDRESS", "email mail emailaddress courriel correo", ""),
    _hint(
        "phone",
        "PHONE_NUMBER",
        "phone telephone telefon telefono telefone tel mobile mobil handy cell cellphone msisdn fax "
        "aparty bparty caller callee calling called phonenumber rufnummer portable",
    ),
    _hint(
        "birth date",
        "DATE_TIME",
        "dob birth birthdate birthday geburtsdatum geburtstag naissance nacimiento nascita geboortedatum urodzenia",
    ),
    _hint(
        "national id",
        "US_SSN UK_NHS FR_NIR NL_BSN PL_PESEL DE_TAX_ID IT_FISCAL_CODE ES_NIF ES_NIE SSN NATIONAL_ID",
        "ssn nir insee pesel bsn steuerid taxid nino nhs nif nie codicefiscale sozialversicherungsnummer",
    ),
    _hint("iban", "IBAN_CODE", "iban"),
    _hint("card", "CREDIT_CARD CUSTOM_CREDIT_CARD", "card karte carte tarjeta carta creditcard cardnumber pan cc"),
    _hint("ip address", "IP_ADDRESS", "ip ipaddress ipv4 ipv6 ipaddr"),
    _hint("device", "IMEI MAC_ADDRESS", "imei mac macaddress"),
    _hint(
        "person name",
        "PERSON",
        "firstname lastname fullname surname forename givenname familyname middlename maidenname "
        "vorname nachname prenom cognome nazwisko imie voornaam achternaam apellido apellidos",
        "name nom nombre naam nome customername username personname contactname displayname",
    ),
    _hint(
        "person role",
        "PERSON",
        "doctor physician nurse clinician therapist dentist surgeon supportagent salesagent driver courier "
        "teacher tutor manager supervisor employee staff clerk cashier author presenter actor artist referee coach",
    ),
    _hint(
        "address",
        "LOCATION ADDRESS",
        "address adresse addr street strasse rue calle via straat ulica postcode zipcode zip plz",
        "city",
    ),
    _hint(
        "user id",
        "USER_ID",
        "userid uid customerid clientid accountid memberid subscriberid kundennummer",
        "user customer",
    ),
)

_SUFFIXES = ("nummer", "number", "num", "nr", "no", "adresse", "address")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_words(path: str) -> list[str]:
    """The words of a field's own name (last path part): "userId" → ["user", "id"], "a_party" → ["a", "party"]."""
    last = re.split(r"[.\[\]{}]+", path.strip(".[]{}"))[-1]
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", last).lower()) if w]


def name_hints(path: str) -> list[NameHint]:
    """The hints a field's name matches, most specific first."""
    words = name_words(path)
    whole = "".join(words)
    joined = set(words) | {a + b for a, b in pairwise(words)} | {whole}
    # Compounds such as "telefonnummer" or "emailadresse": the stem before a number/address suffix.
    joined |= {w[: -len(s)] for w in joined for s in _SUFFIXES if w.endswith(s) and len(w) > len(s) + 1}
    return [h for h in NAME_HINTS if h.words & joined or whole in h.whole]


# --- tallies from the analyzer ---------------------------------------------------------------------------


@dataclass
class EntityTally:
    values: int = 0  # sampled values in which the entity was found
    score_sum: float = 0.0  # of each value's best score for it
    score_max: float = 0.0

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.values if self.values else 0.0


@dataclass
class Findings:
    """What the analyzer found in one field's sampled values; merges across partitions."""

    analysed: int = 0
    with_any: int = 0  # values with at least one finding
    findings: int = 0  # all findings, for entities per value
    entities: dict[str, EntityTally] = field(default_factory=dict)

    def add(self, best_scores: Mapping[str, float], count: int) -> None:
        """One analysed value: its best score per entity found, and how many findings it had."""
        self.analysed += 1
        self.findings += count
        if best_scores:
            self.with_any += 1
        for entity, score in best_scores.items():
            tally = self.entities.setdefault(entity, EntityTally())
            tally.values += 1
            tally.score_sum += score
            tally.score_max = max(tally.score_max, score)

    def merge(self, other: Findings) -> Findings:
        self.analysed += other.analysed
        self.with_any += other.with_any
        self.findings += other.findings
        for entity, theirs in other.entities.items():
            mine = self.entities.setdefault(entity, EntityTally())
            mine.values += theirs.values
            mine.score_sum += theirs.score_sum
            mine.score_max = max(mine.score_max, theirs.score_max)
        return self

    def share(self, entity: str) -> float:
        tally = self.entities.get(entity)
        return tally.values / self.analysed if tally and self.analysed else 0.0


class Analyzer(Protocol):
    """What the executors need of an analyzer: Presidio's AnalyzerEngine (`recognizers.build_analyzer(settings)`)."""

    nlp_engine: Any

    def analyze(self, text: str, language: str, **kwargs: Any) -> list[Any]: ...


def sampled_values(summary: ProfileSummary) -> Iterator[tuple[str, str]]:
    """(field path, value as text) for every sampled scalar worth analysing (not booleans, not empty)."""
    for profile in summary.walk():
        for value in profile.sample:
            if isinstance(value, bool) or value is None or value == "":
                continue
            yield profile.path, value if isinstance(value, str) else str(value)


def analyze_values(
    pairs: Iterable[tuple[str, str]], analyzer_factory: Callable[[], Analyzer], min_score: float | None = None
) -> Iterator[tuple[str, Findings]]:
    """One partition of (path, text) pairs → (path, Findings); the analyzer is built once, here.

    Each field's values go through `recognizers.analyze_values` together (spaCy batches them, repeated values
    are analysed once) with the field's name words as context ("card", "number" raise a card's score).
    Findings below `min_score` (default `recognizers.MIN_SCORE`) do not count.
    """
    # start-up: Presidio and spaCy load on the executors that classify, not in every process importing this.
    from recognizers import MIN_SCORE
    from recognizers import analyze_values as analyze_batch

    analyzer = analyzer_factory()
    threshold = MIN_SCORE if min_score is None else min_score
    by_path: dict[str, list[str]] = {}
    for path, text in pairs:
        by_path.setdefault(path, []).append(text)
    for path, values in by_path.items():
        tally = Findings()
        for results in analyze_batch(analyzer, values, context=name_words(path), score_threshold=threshold):  # type: ignore[arg-type]
            best: dict[str, float] = {}
            for result in results:
                best[result.entity_type] = max(best.get(result.entity_type, 0.0), float(result.score))
            tally.add(best, len(results))
        yield path, tally


# --- the rule ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDecision:
    path: str
    entity: str  # a Presidio entity name, FREE_TEXT or NON_PII
    confidence: float
    explanation: str
    share: float = 0.0  # of analysed values with `entity` (with any entity, for free text)
    mean_score: float = 0.0
    max_score: float = 0.0
    analysed: int = 0
    text_entities: tuple[str, ...] = ()  # for FREE_TEXT (and URL): the entities to anonymise inside the text
    name_signal: str | None = None  # e.g. "phone (a_party)"
    role: str | None = None  # what structure says the field is: event_time, birth_date, catalogue, … (structural.py)
    signals: dict[str, Any] = field(default_factory=dict, compare=False)  # structural signals, for the evidence

    @property
    def is_pii(self) -> bool:
        return self.entity != NON_PII


def decide(profile: FieldProfile, findings: Findings, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> FieldDecision:
    """The field's entity, with a confidence and a one-line explanation."""
    t = thresholds
    hints = name_hints(profile.path)
    signal = f"{', '.join(h.category for h in hints)} ({profile.name})" if hints else None
    named = set().union(*(h.entities for h in hints)) if hints else set()
    n = findings.analysed
    base = {"path": profile.path, "analysed": n, "name_signal": signal}

    if n and _looks_like_text(profile, t):
        any_share = findings.with_any / n
        per_value = findings.findings / n
        if any_share >= t.text_share or per_value >= t.text_entities_per_value:
            found = sorted(
                (e for e, tally in findings.entities.items() if tally.values / n >= t.text_entity_min_share),
                key=lambda e: -findings.entities[e].values,
            )
            return FieldDecision(
                entity=FREE_TEXT,
                confidence=round(min(0.99, 0.5 + 0.5 * any_share), 2),
                explanation=f"free text (mean {profile.tokens_mean:g} words); {_pct(any_share)} of {n} sampled "
                f"values contain entities, {per_value:.1f} per value: {', '.join(found)}",
                share=round(any_share, 4),
                text_entities=tuple(found),
                **base,
            )

    if profile.kind in ("date", "timestamp"):
        tally = findings.entities.get(DATE_TIME, EntityTally())
        bonus = t.name_bonus if DATE_TIME in named else 0.0
        return FieldDecision(
            entity=DATE_TIME,
            confidence=round(min(0.99, 0.85 + bonus), 2),
            explanation=f"every value is a {profile.kind} in format {profile.format}"
            + (f"; name: {signal}" if signal else ""),
            share=1.0,
            mean_score=round(tally.mean_score, 4),
            max_score=round(tally.score_max, 4),
            **base,
        )

    if not n:
        return FieldDecision(entity=NON_PII, confidence=0.5, explanation="no values to analyse", **base)

    ranked = sorted(findings.entities, key=lambda e: (-findings.share(e), -findings.entities[e].mean_score, e))
    by_name = [e for e in ranked if e in named and findings.share(e) >= t.share_with_name]
    by_share = [e for e in ranked if findings.share(e) >= t.share]
    chosen = (by_name or by_share or [None])[0]
    if chosen is not None:
        share, tally = findings.share(chosen), findings.entities[chosen]
        agrees = chosen in named
        confidence = min(0.99, 0.6 * share + 0.4 * tally.mean_score + (t.name_bonus if agrees else 0.0))
        rule = f">= {_pct(t.share_with_name)} with the name" if agrees and share < t.share else f">= {_pct(t.share)}"
        return FieldDecision(
            entity=chosen,
            confidence=round(confidence, 2),
            explanation=f"{chosen} in {tally.values}/{n} sampled values ({_pct(share)}, {rule}), "
            f"mean score {tally.mean_score:.2f}" + (f"; name: {signal}" if signal else ""),
            share=round(share, 4),
            mean_score=round(tally.mean_score, 4),
            max_score=round(tally.score_max, 4),
            **base,
        )

    if ranked:
        best = ranked[0]
        share, tally = findings.share(best), findings.entities[best]
        why = f"best entity {best} in {tally.values}/{n} sampled values ({_pct(share)} < {_pct(t.share)})"
        stats = {"share": round(share, 4), "mean_score": round(tally.mean_score, 4), "max_score": tally.score_max}
    else:
        share, why, stats = 0.0, f"no entity in {n} sampled values", {}
    why += f"; name: {signal} not confirmed by the values" if signal else "; no name signal"
    return FieldDecision(entity=NON_PII, confidence=round(max(0.01, 1 - share), 2), explanation=why, **stats, **base)


def _looks_like_text(profile: FieldProfile, t: Thresholds) -> bool:
    return (profile.tokens_mean or 0) >= t.text_tokens or (profile.length_mean or 0) >= t.text_length


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"
