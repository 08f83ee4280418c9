"""Field-level evaluation of schema inference's classification, on data deid did not generate.

`tests/data/fields/field_eval.yaml` holds hand-written vocabularies and datasets (fields, how each is built,
the gold entities); `build_records` turns a dataset into records with a fixed seed (no Faker, nothing from
producers/). `evaluate` profiles the records (with the domain's subject field), analyses the samples with
deid's analyzer and scores each field twice: the analyzer's rule alone (`classify.decide`) and with the
structural rules (`decide_all`). The in-distribution figure uses the seed domains' own generators.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from schema_inference.classify import NON_PII, Analyzer, Findings, analyze_values, decide, sampled_values
from schema_inference.job import decide_all
from schema_inference.profile import Profile

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "fields" / "field_eval.yaml"
SUBJECT_GENERATORS = {"id", "name", "email", "birth_date", "street"}

# In-distribution: the seed domains as deid's producers generate them (gold per field).
SEED_GOLD: dict[str, dict[str, set[str]]] = {
    "channel": {
        "channel_name": {NON_PII},
        "tv_show": {NON_PII},
        "tv_show_type": {NON_PII},
        "date": {"EVENT_TIME"},
        "user_id": {"USER_ID"},
    },
    "movie": {
        "movie_name": {NON_PII},
        "movie_type": {NON_PII},
        "purchase_date": {"EVENT_TIME"},
        "user_id": {"USER_ID"},
        "price": {NON_PII},
        "card_number": {"CREDIT_CARD", "CUSTOM_CREDIT_CARD"},
    },
    "website": {"domain": {NON_PII}, "website_type": {NON_PII}, "date": {"EVENT_TIME"}, "user_id": {"USER_ID"}},
    "mobile": {
        "a_party": {"PHONE_NUMBER"},
        "b_party": {"PHONE_NUMBER"},
        "starting_time": {"EVENT_TIME"},
        "duration": {NON_PII},
        "call_type": {NON_PII},
    },
    "profile": {
        "name": {"PERSON"},
        "dob": {"DATE_TIME"},
        "gender": {NON_PII},
        "ssn_no": {"US_SSN"},
        "data_share_consent": {NON_PII},
        "evnt_time": {"EVENT_TIME"},
    },
}


@dataclass(frozen=True)
class Dataset:
    name: str
    subject: str | None
    event_time: str | None
    records: list[dict[str, Any]]
    gold: dict[str, set[str]]


def load_datasets(path: Path = EVAL_FILE, seed: int = 2024) -> list[Dataset]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    vocab = doc["vocab"]
    return [_build(spec, vocab, random.Random(f"{seed}:{spec['name']}")) for spec in doc["datasets"]]


def _build(spec: Mapping[str, Any], vocab: Mapping[str, list[str]], rng: random.Random) -> Dataset:
    subjects = [_Subject(n, rng) for n in rng.sample(range(1, 10**6), spec["subjects"])]
    names = rng.sample([(g, f) for g in vocab["given"] for f in vocab["family"]], spec["subjects"])
    for subject, (given, family) in zip(subjects, names, strict=True):
        subject.given, subject.family = given, family
    makers = {path: _maker(fspec, vocab, rng) for path, fspec in spec["fields"].items()}
    per_subject = {
        path: fspec.get("per", "subject" if fspec["gen"] in SUBJECT_GENERATORS else "event")
        for path, fspec in spec["fields"].items()
    }
    records = []
    for _ in range(spec["records"]):
        subject = rng.choice(subjects)
        record = {}
        for path, make in makers.items():
            if per_subject[path] == "subject":
                record[path] = subject.memo.setdefault(path, make(subject))
            else:
                record[path] = make(subject)
        records.append(record)
    gold = {path: set(fspec["gold"]) for path, fspec in spec["fields"].items()}
    return Dataset(spec["name"], spec.get("subject"), spec.get("event_time"), records, gold)


@dataclass
class _Subject:
    n: int
    rng: random.Random
    given: str = ""
    family: str = ""
    memo: dict[str, Any] = field(default_factory=dict)


_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_MAIL_DOMAINS = ("postvak.nl", "briefkasten.de", "boitemail.fr", "inbox-mail.co.uk", "poczta-online.pl")


def _styled(given: str, family: str, style: str) -> str:
    return {
        "First Last": f"{given} {family}",
        "LAST, First": f"{family.upper()}, {given}",
        "first last": f"{given} {family}".lower(),
        "Dr. First Last": f"Dr. {given} {family}",
        "F. Last": f"{given[0]}. {family}",
        "FIRST LAST": f"{given} {family}".upper(),
    }[style]


def _phone(style: str, rng: random.Random) -> str:
    digits = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    if style == "00":
        return rng.choice(
            [
                f"0031 6 {digits(4)} {digits(4)}",
                f"0049 151 {digits(4)} {digits(4)}",
                f"0033 6 {digits(2)} {digits(2)} {digits(2)} {digits(2)}",
            ]
        )
    if style == "(0":
        return rng.choice([f"(020) {digits(3)} {digits(4)}", f"(030) {digits(7)}", f"(0161) {digits(3)} {digits(4)}"])
    return rng.choice(
        [
            f"+48 5{digits(2)} {digits(3)} {digits(3)}",
            f"+39 3{digits(2)} {digits(3)} {digits(4)}",
            f"+44 7700 9{digits(5)}",
        ]
    )


def _maker(spec: Mapping[str, Any], vocab: Mapping[str, list[str]], rng: random.Random) -> Callable[[_Subject], Any]:
    gen = spec["gen"]
    if gen == "id":
        pool = [rng.randint(1, 10**6) for _ in range(spec["pool"])] if "pool" in spec else None
        return lambda s: spec["pattern"].format(n=rng.choice(pool) if pool else s.n)
    if gen == "name":
        return lambda s: _styled(s.given, s.family, spec["style"])
    if gen == "shared_name":
        staff = [
            _styled(rng.choice(vocab["given"]), rng.choice(vocab["family"]), spec["style"])
            for _ in range(spec["count"])
        ]
        return lambda s: rng.choice(staff)
    if gen == "pick":
        return lambda s: rng.choice(vocab[spec["from"]])
    if gen == "event_time":
        fmt = spec["format"]

        def event_time(_s: _Subject) -> Any:
            moment = _EPOCH + timedelta(seconds=rng.randint(0, 330 * 86400))
            return int(moment.timestamp() * 1000) if fmt == "epoch_millis" else moment.strftime(fmt)

        return event_time
    if gen == "birth_date":
        return lambda s: (datetime(1941, 1, 1) + timedelta(days=rng.randint(0, 64 * 365))).strftime(spec["format"])
    if gen == "phone":
        return lambda s: _phone(spec["style"], rng)
    if gen == "email":
        return lambda s: f"{s.given.lower()}.{s.family.lower().replace('-', '')}{s.n % 97}@{rng.choice(_MAIL_DOMAINS)}"
    if gen == "url":
        share = spec["personal"]

        def url(s: _Subject) -> str:
            site = rng.choice(vocab["sites"])
            if rng.random() < share:
                return rng.choice(
                    [
                        f"https://{site}/receipt?customer={s.n}&mail={s.given.lower()}%40{_MAIL_DOMAINS[0]}",
                        f"https://{site}/account/{s.n:08d}/orders",
                    ]
                )
            slug = rng.choice(vocab["plain_titles"]).lower().replace(" ", "-")
            return f"https://{site}/{rng.choice(vocab['kinds'])}/{slug}"

        return url
    if gen == "number":
        return lambda s: round(rng.uniform(1, 500), 2)
    if gen == "street":
        return lambda s: f"{rng.choice(vocab['streets'])} {rng.randint(1, 180)}"
    if gen == "ip":
        return lambda s: (
            f"{rng.choice((81, 145, 213))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        )
    raise ValueError(f"{EVAL_FILE.name}: unknown generator {gen!r}")


# --- scoring ---------------------------------------------------------------------------------------------


@dataclass
class FieldResult:
    dataset: str
    path: str
    gold: set[str]
    structural: str  # entity with the structural rules
    analyzer_only: str  # entity from the analyzer's rule alone
    role: str | None
    explanation: str


def classify_dataset(
    dataset: Dataset, analyzer_factory: Callable[[], Analyzer], sample: int = 1000
) -> list[FieldResult]:
    rows = ((json.dumps(r).encode(), 0, i) for i, r in enumerate(dataset.records))
    summary = Profile(sample, 0, subject_field=dataset.subject).add_all(rows).summary()
    tallies = dict(analyze_values(sampled_values(summary), analyzer_factory))
    decisions = decide_all(summary, tallies, subject_field=dataset.subject, event_time_field=dataset.event_time)
    out = []
    for path, gold in dataset.gold.items():
        profile = summary.field(path)
        plain = decide(profile, tallies.get(path) or Findings())
        d = decisions[path]
        out.append(FieldResult(dataset.name, path, gold, d.entity, plain.entity, d.role, d.explanation))
    return out


def _treated(entity: str) -> bool:
    return entity != NON_PII


def score(results: Iterable[FieldResult], which: str) -> dict[str, float | int]:
    """Field accuracy (entity in gold) and binary treated-or-not precision/recall/F2 over fields."""
    rows = list(results)
    predicted = [getattr(r, which) for r in rows]
    pairs = list(zip(predicted, rows, strict=True))
    correct = sum(p in r.gold for p, r in pairs)
    tp = sum(_treated(p) and any(map(_treated, r.gold)) for p, r in pairs)
    fp = sum(_treated(p) and not any(map(_treated, r.gold)) for p, r in pairs)
    fn = sum(not _treated(p) and any(map(_treated, r.gold)) for p, r in pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    person = [(p, r) for p, r in pairs if "PERSON" in r.gold]
    titles = [(p, r) for p, r in pairs if r.gold == {NON_PII}]
    return {
        "fields": len(rows),
        "accuracy": round(correct / len(rows), 3) if rows else 0.0,
        "binary_precision": round(precision, 3),
        "binary_recall": round(recall, 3),
        "binary_f2": round(f2, 3),
        "person_fields_right": sum(p == "PERSON" for p, _ in person),
        "person_fields": len(person),
        "non_pii_fields_right": sum(p == NON_PII for p, _ in titles),
        "non_pii_fields": len(titles),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }
