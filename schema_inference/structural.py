"""The structural rules: a field's decision from the analyzer, refined by how its values sit in the data.

`refine` takes `classify.decide`'s decision and the field's `signals.FieldSignals` and, in this order:
1. Dates: a date of birth (named so, or one value per subject spanning decades, long ago) stays DATE_TIME
   with role `birth_date`; the domain's event time (declared, or varying within a subject and recent) becomes
   EVENT_TIME: quasi-identifying, not an identifier, with date_shift (per subject: intervals kept) suggested.
2. Web addresses: bare site domains (`bol.com`) are NON_PII, kept so visits per site can be counted; URLs
   whose user info, path or query carry personal parts stay URL, generalised to their site (url_site: visits
   per site still count); URLs without such parts are NON_PII.
3. A catalogue: values shared by many subjects and varying within a subject (a show watched by many viewers)
   are not the subjects' names, whatever a recognizer says (PERSON, NRP, ORGANIZATION; LOCATION only when
   the values measurably vary within a subject). A field whose name says it holds names is never overruled.
4. Names by structure: name-shaped values (two to four words of letters) that belong to one subject each,
   with PERSON found in at least `person_share` of them, are PERSON even below the usual share.
The domain's subject field is an identifier (USER_ID) even when no recognizer knows its shape.
Each refined decision carries the signals (`FieldDecision.signals`) and says which one decided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deid.tags import EVENT_TIME
from schema_inference.classify import NON_PII, FieldDecision, Findings, Thresholds, name_hints
from schema_inference.signals import FieldSignals
from schema_inference.stats import FieldProfile

URL = "URL"
SUBJECT_ID = "USER_ID"  # the entity (and default treatment: encrypt) of a subject field no recognizer names
CATALOGUE_ENTITIES = frozenset({"PERSON", "NRP", "ORGANIZATION"})


@dataclass(frozen=True)
class StructureThresholds:
    shared: float = 0.5  # share of value occurrences held by 2+ subjects from which values are shared
    functional: float = 0.9  # share of repeat subjects with one value from which a field is a subject attribute
    varies: float = 0.5  # ... below which the field varies within a subject
    min_subjects: int = 20  # sampled subjects needed before the subject signals count
    repeat_ratio: float = 0.2  # without a subject field: at most this distinct per sampled → repeated values
    name_shaped: float = 0.8
    person_share: float = 0.25
    unique_ratio: float = 0.5  # without a subject field: at least this distinct per sampled → one per person
    birth_span_years: float = 15.0
    birth_min_age: float = 10.0
    event_max_age: float = 10.0
    hosts: float = 0.9
    url_personal: float = 0.02


DEFAULT_STRUCTURE = StructureThresholds()


def refine(
    decision: FieldDecision,
    profile: FieldProfile,
    findings: Findings,
    signals: FieldSignals | None,
    *,
    event_time_field: str | None = None,
    subject_field: str | None = None,
    thresholds: Thresholds | None = None,
    structure: StructureThresholds = DEFAULT_STRUCTURE,
) -> FieldDecision:
    if signals is None:
        return decision
    decision = replace(decision, signals=signals.as_evidence())
    if profile.path == subject_field:
        if decision.entity == NON_PII:  # whatever its shape, the value that says whom a record is about
            return replace(
                decision,
                entity=SUBJECT_ID,
                role="subject",
                confidence=0.9,
                explanation="the domain's subject field: it identifies whom each record is about; "
                + decision.explanation,
            )
        return replace(decision, role="subject")
    if profile.kind in ("date", "timestamp"):
        return _date_role(decision, profile, signals, event_time_field, structure)
    if signals.url is not None and decision.entity in (URL, NON_PII):  # web addresses by shape (half or more)
        return _url_role(decision, findings, signals, structure)
    hints = {h.category for h in name_hints(profile.path)}
    people = {"person name", "person role"}  # a name says the values are people's: structure never overrules it
    if decision.entity in CATALOGUE_ENTITIES | {"LOCATION"} and not hints & people:
        overruled = _catalogue(decision, signals, structure, hints)
        if overruled is not None:
            return overruled
    if decision.entity == NON_PII and _best(findings) in CATALOGUE_ENTITIES and not hints & people:
        # Already below the share: say that the structure agrees (or not), so the steward sees why.
        agrees = _catalogue(replace(decision, entity=_best(findings) or NON_PII), signals, structure, hints)
        if agrees is not None:
            return replace(decision, role="catalogue", explanation=f"{decision.explanation}; {agrees.explanation}")
    if decision.entity != "PERSON":
        return _names_by_structure(decision, findings, signals, structure)
    return decision


def _best(findings: Findings) -> str | None:
    return max(findings.entities, key=lambda e: (findings.entities[e].values, e)) if findings.entities else None


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _date_role(
    decision: FieldDecision,
    profile: FieldProfile,
    signals: FieldSignals,
    event_field: str | None,
    t: StructureThresholds,
) -> FieldDecision:
    subject, dates = signals.subject, signals.dates
    functional = subject.functional if subject is not None and subject.subjects >= t.min_subjects else None
    named_birth = any(h.category == "birth date" for h in name_hints(profile.path))
    when = f"median {dates.median_years_ago:g} years ago, spanning {dates.years_span:g} years" if dates else ""
    long_ago = dates is not None and dates.years_span >= t.birth_span_years
    long_ago = long_ago and dates is not None and dates.median_years_ago >= t.birth_min_age
    if named_birth or (functional is not None and functional >= t.functional and long_ago):
        why = "named as one" if named_birth else f"one value per subject ({_pct(functional)} of subjects)"
        return replace(
            decision,
            role="birth_date",
            explanation=f"date of birth ({why}; {when}): identifying with other fields; {decision.explanation}",
        )
    varies = functional is not None and functional < t.varies
    recent = dates is not None and dates.median_years_ago < t.event_max_age
    if profile.path == event_field or (varies and recent):
        reasons = ["the domain's event time"] if profile.path == event_field else []
        if functional is not None:
            reasons.append(f"varies within a subject (one value for {_pct(functional)} of subjects with repeats)")
        if dates is not None:
            reasons.append(when)
        return replace(
            decision,
            entity=EVENT_TIME,
            role="event_time",
            confidence=0.9 if profile.path == event_field else 0.75,
            explanation=f"event time: {'; '.join(reasons)}. Quasi-identifying, not an identifier: date_shift per "
            "subject keeps intervals and order (or generalise to the day or hour); "
            f"every value is a {profile.kind} in format {profile.format}",
        )
    return replace(decision, role="date")


def _url_role(
    decision: FieldDecision, findings: Findings, signals: FieldSignals, s: StructureThresholds
) -> FieldDecision:
    url = signals.url
    assert url is not None
    n = findings.analysed
    if url.hosts >= s.hosts:
        return replace(
            decision,
            entity=NON_PII,
            role="site_domain",
            confidence=round(min(0.95, 0.5 + 0.5 * url.hosts), 2),
            explanation=f"site domains: {_pct(url.hosts)} of {n} sampled values are bare host names (no path, "
            "query or user part): not personal data; kept so that visits per site can be counted",
        )
    if url.personal >= s.url_personal:
        # Recognizers read a URL as one URL (an e-mail in its query is shadowed by it), so the parts are
        # found by structure, and the suggestion keeps the site and drops what carries them (generalize url_site).
        return replace(
            decision,
            entity=URL,
            role="url_personal",
            confidence=round(min(0.95, 0.6 + url.personal), 2),
            explanation=f"URLs with personal parts ({', '.join(url.parts)}) in {_pct(url.personal)} of {n} sampled "
            "values: keep the site, drop the user info, path and query that carry them (generalize url_site)",
        )
    return replace(
        decision,
        entity=NON_PII,
        role="url",
        confidence=0.6,
        explanation=f"URLs ({_pct(url.urls)} of {n} sampled values) with no user part, e-mail, id in the path or "
        "personal query parameter: not personal data by themselves",
    )


def _catalogue(
    decision: FieldDecision, signals: FieldSignals, t: StructureThresholds, hints: set[str]
) -> FieldDecision | None:
    subject = signals.subject
    why = None
    if subject is not None and subject.subjects >= t.min_subjects and subject.shared is not None:
        varies = subject.functional is not None and subject.functional < t.varies
        widely = subject.functional is None and (subject.subjects_per_value or 0) >= 3
        if subject.shared >= t.shared and (varies or (widely and decision.entity != "LOCATION")):
            why = (
                f"{_pct(subject.shared)} of value occurrences are shared by several of {subject.subjects} sampled "
                f"subjects (median {subject.subjects_per_value:g} subjects per value)"
                + (f" and vary within a subject (one value for {_pct(subject.functional)})" if varies else "")
            )
    elif (
        subject is None
        and decision.entity != "LOCATION"
        and signals.distinct_ratio is not None
        and signals.sampled >= 50
        and signals.distinct_ratio <= t.repeat_ratio
    ):
        why = f"few distinct values, each repeated ({_pct(signals.distinct_ratio)} distinct of {signals.sampled})"
    if why is None or "address" in hints:
        return None
    return replace(
        decision,
        entity=NON_PII,
        role="catalogue",
        confidence=round(max(0.5, min(0.95, 1 - decision.share / 2)), 2),
        explanation=f"a catalogue, not the subjects' own names: {why}; "
        f"{decision.entity} in {_pct(decision.share)} of sampled values is not enough against that structure",
    )


def _names_by_structure(
    decision: FieldDecision, findings: Findings, signals: FieldSignals, t: StructureThresholds
) -> FieldDecision:
    share = findings.share("PERSON")
    if share < t.person_share or signals.name_shaped < t.name_shaped:
        return decision
    subject = signals.subject
    if subject is not None and subject.subjects >= t.min_subjects:
        own = (subject.shared or 0.0) <= 1 - t.functional and (subject.functional or 1.0) >= t.functional
        why = f"each value belongs to one subject ({_pct(subject.shared)} shared of {subject.subjects} sampled)"
    else:
        own = signals.distinct_ratio is not None and signals.distinct_ratio >= t.unique_ratio
        why = f"mostly distinct ({_pct(signals.distinct_ratio)} distinct)"
    if not own:
        return decision
    tally = findings.entities["PERSON"]
    return replace(
        decision,
        entity="PERSON",
        role="person_name",
        share=round(share, 4),
        mean_score=round(tally.mean_score, 4),
        max_score=round(tally.score_max, 4),
        confidence=round(min(0.95, 0.5 + 0.3 * share + 0.2 * signals.name_shaped), 2),
        explanation=f"names by structure: {_pct(signals.name_shaped)} name-shaped ({signals.shape}), {why}, "
        f"PERSON in {tally.values}/{findings.analysed} sampled values",
    )
