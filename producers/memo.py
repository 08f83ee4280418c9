"""`memo`: free-text support and call notes full of personal data, with the ground truth of every PII span.

Each memo is written in English about a customer from one EU locale (names, IBAN, phone, address from that
locale's Faker) and is assembled from sentence templates, so the offset of every inserted value is known
exactly: `labelled_memos()` returns texts with their spans `(start, end, entity)` (Presidio entity names)
for scoring recognizers, and `deid produce memo --truth-file` writes the same spans beside the events.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from deid.domains import load_registry
from producers.base import EventGenerator, PersonNames, Span, ascii_slug, days_between, epoch_seconds, pool
from producers.channel import SHOWS
from producers.memo_templates import CLOSINGS, MIDDLES, OPENINGS

MEMO_LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "en_GB")
POOL_SIZE = 60
COUNTRIES = (
    "Germany", "France", "Spain", "Italy", "the Netherlands", "Poland", "the United Kingdom", "Belgium",
    "Austria", "Portugal", "Ireland", "Denmark", "Sweden", "Czechia",
)  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
PRODUCTS = ("broadband contract", "mobile plan", "savings account", "credit card", "home insurance policy",
            "streaming subscription", "energy contract", "car loan", "travel booking", "gym membership")  # fmt: skip

# Slot name -> Presidio entity of the value put there. Slots not listed are filler with no personal data.
ENTITY_OF_SLOT = {
    "customer": "PERSON",
    "customer_first": "PERSON",
    "agent": "PERSON",
    "relative": "PERSON",
    "phone": "PHONE_NUMBER",
    "phone2": "PHONE_NUMBER",
    "iban": "IBAN_CODE",
    "email": "EMAIL_ADDRESS",
    "customer_email": "EMAIL_ADDRESS",
    "address": "LOCATION",
    "street": "LOCATION",
    "city": "LOCATION",
    "country": "LOCATION",
    "date": "DATE_TIME",
    "date2": "DATE_TIME",
    "dob": "DATE_TIME",
}
FILLER_SLOTS = {"amount", "ticket", "product", "show", "minutes"}
# Drawn anew at each use; every other slot shows the same value wherever a memo repeats it (one customer,
# one phone number, one IBAN per memo).
FRESH_SLOTS = {"date", "date2", "amount", "minutes", "show", "country"}


def one_line(text: str) -> str:
    """A multi-line Faker address as it is written in running text: lines joined with ", ", spaces tidied."""
    return ", ".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _compile(template: str) -> tuple[tuple[str, str | None], ...]:
    """A template as (literal text, slot name or None) pairs; a slot name must be known."""
    parts = []
    for literal, slot, _spec, _conv in string.Formatter().parse(template):
        if slot is not None and slot not in ENTITY_OF_SLOT and slot not in FILLER_SLOTS:
            raise ValueError(f"memo template slot {{{slot}}} is unknown: {template!r}")
        parts.append((literal, slot))
    return tuple(parts)


_OPENINGS = tuple(_compile(t) for t in OPENINGS)
_MIDDLES = tuple(_compile(t) for t in MIDDLES)
_CLOSINGS = tuple(_compile(t) for t in CLOSINGS)


@dataclass(frozen=True)
class Memo:
    text: str
    spans: list[Span]
    values: list[str]
    """The value inserted for each span, in span order (what `text[start:end]` must be)."""
    locale: str


class _LocalePools:
    """Faker values of one locale, drawn once."""

    def __init__(self, generator: EventGenerator, locale: str) -> None:
        fake = generator.faker(locale)
        self.locale = locale
        self.names = PersonNames(fake, generator.rng, POOL_SIZE)
        self.phones = pool(POOL_SIZE, fake.phone_number)
        self.ibans = pool(POOL_SIZE, fake.iban)
        self.addresses = [one_line(a) for a in pool(POOL_SIZE, fake.address)]
        self.streets = [one_line(s) for s in pool(POOL_SIZE, fake.street_address)]
        self.cities = pool(POOL_SIZE, fake.city)
        self.emails = pool(POOL_SIZE, fake.free_email)
        self.mail_domains = list(dict.fromkeys(pool(10, fake.free_email_domain)))


class MemoGenerator(EventGenerator):
    domain_name = "memo"
    labels_spans = True

    def setup(self) -> None:
        self.pools = [_LocalePools(self, locale) for locale in MEMO_LOCALES]
        self.agents = self.pools[-1].names  # the support desk works in English
        self.days = days_between(date(2015, 1, 1), date(2025, 6, 30))
        self.born = days_between(date(1940, 1, 1), date(2006, 12, 31))
        self.time_format = self.date_format("created_at")
        self.first_second = epoch_seconds(date(2023, 1, 1))

    def _date(self, day: date) -> str:
        rng = self.rng
        style = rng.randrange(6)
        if style == 0:
            return f"{day.day:02d}.{day.month:02d}.{day.year}"
        if style == 1:
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
        if style == 2:
            return day.isoformat()
        if style == 3:
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        if style == 4:
            return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
        return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"

    def _iban(self, raw: str) -> str:
        # Printed IBANs are usually grouped by four; pasted ones are not.
        if self.rng.random() < 0.5:
            return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
        return raw

    def _values(self, local: _LocalePools) -> dict[str, Any]:
        """How to draw each slot's value for one memo (only the slots the memo uses are drawn)."""
        rng = self.rng
        choice = rng.choice
        gender = "female" if rng.random() < 0.5 else "male"
        first = local.names.first(gender)
        last = choice(local.names.last)
        return {
            "customer": lambda: f"{first} {last}",
            "customer_first": lambda: first,
            "customer_email": lambda: f"{ascii_slug(first + ' ' + last)}@{choice(local.mail_domains)}",
            "agent": lambda: self.agents.full(),
            "relative": lambda: f"{local.names.first()} {last}",
            "phone": lambda: choice(local.phones),
            "phone2": lambda: choice(local.phones),
            "iban": lambda: self._iban(choice(local.ibans)),
            "email": lambda: choice(local.emails),
            "address": lambda: choice(local.addresses),
            "street": lambda: choice(local.streets),
            "city": lambda: choice(local.cities),
            "country": lambda: choice(COUNTRIES),
            "date": lambda: self._date(choice(self.days)),
            "date2": lambda: self._date(choice(self.days)),
            "dob": lambda: self._date(choice(self.born)),
            "amount": lambda: f"EUR {rng.randrange(5, 5000)},{rng.randrange(100):02d}",
            "ticket": lambda: f"#{rng.randrange(10000, 99999)}",
            "product": lambda: choice(PRODUCTS),
            "show": lambda: choice(SHOWS)[1],
            "minutes": lambda: str(rng.randrange(2, 45)),
        }

    def compose(self) -> Memo:
        """The next memo: an opening, two to four middle sentences, sometimes a closing."""
        rng = self.rng
        local = rng.choice(self.pools)
        makers = self._values(local)
        chosen: dict[str, str] = {}
        sentences = [rng.choice(_OPENINGS), *rng.sample(_MIDDLES, rng.randint(2, 4))]
        if rng.random() < 0.6:
            sentences.append(rng.choice(_CLOSINGS))
        pieces: list[str] = []
        spans: list[Span] = []
        values: list[str] = []
        offset = 0
        for index, sentence in enumerate(sentences):
            if index:
                pieces.append(" ")
                offset += 1
            for literal, slot in sentence:
                pieces.append(literal)
                offset += len(literal)
                if slot is None:
                    continue
                value = chosen.get(slot)
                if value is None:
                    value = makers[slot]()
                    if slot not in FRESH_SLOTS:
                        chosen[slot] = value
                pieces.append(value)
                entity = ENTITY_OF_SLOT.get(slot)
                if entity is not None:
                    spans.append((offset, offset + len(value), entity))
                    values.append(value)
                offset += len(value)
        return Memo("".join(pieces), spans, values, local.locale)

    def _created_at(self) -> str:
        seconds = self.first_second + self.rng.randrange(int(timedelta(days=900).total_seconds()))
        return datetime.fromtimestamp(seconds, tz=UTC).strftime(self.time_format)

    def labelled(self) -> tuple[dict[str, Any], list[Span] | None]:
        memo = self.compose()
        memo_id = f"MEMO-{self.rng.getrandbits(40):010X}"
        event = {"memo_id": memo_id, "created_at": self._created_at(), "text": memo.text}
        return event, memo.spans

    def event(self) -> dict[str, Any]:
        return self.labelled()[0]


def labelled_memos(count: int, seed: int) -> list[tuple[str, list[Span]]]:
    """`count` memo texts with their PII spans `(start, end, entity)`; the same seed gives the same memos,
    and they are the texts `deid produce memo --seed SEED` sends first."""
    generator = MemoGenerator(load_registry().get("memo"), seed)
    memos = []
    for _ in range(count):
        event, spans = generator.labelled()
        memos.append((event["text"], spans or []))
    return memos
