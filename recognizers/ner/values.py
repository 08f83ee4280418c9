"""Slot values for the NER corpus: Faker across EU locales, plus the fixed lists of `lexicon`.

A slot (`{PERSON}`, `{CITY}`, `{TV}`, ...) becomes a list of `Piece`s: text with the entity label it carries,
or None for text that is not an entity (titles before a name, negatives such as TV shows, IBANs, phones).
Every draw goes through one seeded `random.Random` and seeded Faker instances, so a seed fixes the corpus.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from faker import Faker

from recognizers.ner import lexicon


@dataclass(frozen=True)
class Piece:
    text: str
    label: str | None = None


Pieces = list[Piece]

_SPACES = re.compile(r"\s+")
_DATE_FORMATS = (
    "%d-%m-%Y", "%m-%d-%Y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d %B %Y", "%B %d, %Y",
    "%d %b %Y", "%b %d", "%d %B", "%A %d %B", "%B %Y", "%d/%m/%y", "%a %d %b %Y",
)  # fmt: skip
# How often a given name is a hyphenated compound, per locale (common in French and German).
_COMPOUND_FIRST_NAMES: dict[str, float] = {"fr_FR": 0.2, "de_DE": 0.12, "nl_NL": 0.04, "pl_PL": 0.03}
_TIME_FORMATS = ("%H:%M", "%H:%M", "%I:%M %p", "%I %p", "%H.%M", "%H:%M:%S")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\n", ", ")).replace(" ,", ",").strip(" ,")


def _stable_city_order(faker: Faker) -> None:
    """Faker's it_IT city list is built from a set, so its order (and the draws) follow PYTHONHASHSEED."""
    for provider in faker.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)


def _dev_part(titles: tuple[str, ...], split: str) -> tuple[str, ...]:
    """Every fourth name-like title is kept for dev, so dev (like the held-out split) has unseen ones."""
    return tuple(t for i, t in enumerate(titles) if (i % 4 == 3) == (split == "dev"))


class ValueFactory:
    """Draws slot values. `split` picks the title lists (the held-out split has titles of its own)."""

    def __init__(self, seed: int, split: str) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for index, locale in enumerate(lexicon.LOCALES):
            faker = Faker(locale)
            faker.seed_instance(seed * 31 + index)
            _stable_city_order(faker)
            self.fakers[locale] = faker
        heldout = split == "test"
        self.tv_titles = (
            *(lexicon.NAME_LIKE_TV_HELDOUT if heldout else _dev_part(lexicon.NAME_LIKE_TV_TRAIN, split)),
            *(lexicon.OTHER_TV_HELDOUT if heldout else lexicon.OTHER_TV_TRAIN),
        )
        self.films = (
            *(lexicon.NAME_LIKE_FILMS_HELDOUT if heldout else _dev_part(lexicon.NAME_LIKE_FILMS_TRAIN, split)),
            *lexicon.OTHER_FILMS,
        )
        every_title = (
            *lexicon.NAME_LIKE_TV_TRAIN, *lexicon.NAME_LIKE_TV_HELDOUT,
            *lexicon.NAME_LIKE_FILMS_TRAIN, *lexicon.NAME_LIKE_FILMS_HELDOUT, *lexicon.NAME_LIKE_WORDS,
        )  # fmt: skip
        # A bare field value that is a title is a show; bare person names never collide with a title.
        self.title_words = {t.lower() for t in every_title}
        self.locale = lexicon.LOCALES[0]
        self.slots: dict[str, Callable[[], Pieces]] = {
            "PERSON": self.person, "FIRST": self.first, "LAST": self.last, "FULL": self.full,
            "TITLED": self.titled, "CITY": self.city, "COUNTRY": self.country, "STREET": self.street,
            "ADDRESS": self.address, "LOC": self.location, "ORG": self.org, "NRP": self.nrp,
            "NATIONALITY": self.nationality, "RELIGION": self.religion, "POLITICAL": self.political,
            "DATE": self.date, "TIME": self.time, "DATETIME": self.datetime, "TV": self.tv, "FILM": self.film,
            "CHANNEL": self.channel, "GENRE": self.genre, "PRODUCT": self.product, "USER_ID": self.user_id,
            "CARD": self.card, "IBAN": self.iban, "EMAIL": self.email, "PHONE": self.phone,
            "TICKET": self.ticket, "AMOUNT": self.amount, "NUM": self.num, "URL": self.url,
            "NAMEWORD": self.name_word,
        }  # fmt: skip

    # -- plumbing ---------------------------------------------------------------------------------
    def start_document(self) -> None:
        """Each document has a home locale; a slot strays to another locale now and then."""
        self.locale = self.rng.choices(lexicon.LOCALES, lexicon.LOCALE_WEIGHTS)[0]

    def fill(self, slot: str, bare: bool = False) -> Pieces:
        if slot not in self.slots:
            raise KeyError(f"unknown template slot {{{slot}}}")
        if bare and slot in {"PERSON", "FIRST", "FULL"}:
            for _ in range(20):
                pieces = self.slots[slot]()
                if " ".join(p.text for p in pieces).lower() not in self.title_words:
                    return pieces
        return self.slots[slot]()

    def _faker(self) -> Faker:
        if self.rng.random() < 0.25:
            return self.fakers[self.rng.choice(lexicon.LOCALES)]
        return self.fakers[self.locale]

    def _one(self, text: str, label: str | None) -> Pieces:
        return [Piece(_clean(text), label)]

    def _case(self, text: str) -> str:
        """Names are sometimes typed in lower or upper case (sparingly: most text is written properly)."""
        roll = self.rng.random()
        if roll < 0.01:
            return text.lower()
        if roll < 0.03:
            return text.upper()
        return text

    # -- people -----------------------------------------------------------------------------------
    def _names(self) -> tuple[str, str, str]:
        faker = self._faker()
        locale = next(k for k, v in self.fakers.items() if v is faker)
        first = faker.first_name()
        last = faker.last_name()
        if locale == "es_ES" and self.rng.random() < 0.4:
            last = f"{last} {faker.last_name()}"
        if self.rng.random() < _COMPOUND_FIRST_NAMES.get(locale, 0.02):
            first = f"{first}-{faker.first_name()}"  # "Jean-Luc", "Hans-Peter": not a company's "X-Y"
        if self.rng.random() < 0.07:
            last = f"{last}-{faker.last_name()}"
        return locale, _clean(first), _clean(last)

    def person(self) -> Pieces:
        locale, first, last = self._names()
        roll = self.rng.random()
        if roll < 0.42:
            return [Piece(self._case(f"{first} {last}"), "PERSON")]
        if roll < 0.56:
            return [Piece(self._case(first), "PERSON")]
        if roll < 0.61:
            return [Piece(self._case(last), "PERSON")]
        if roll < 0.75:
            return [Piece(self.rng.choice(lexicon.TITLES[locale]) + " "), Piece(last, "PERSON")]
        if roll < 0.82:
            return [Piece(self.rng.choice(lexicon.TITLES[locale]) + " "), Piece(f"{first} {last}", "PERSON")]
        if roll < 0.93:
            return [Piece(f"{first[0]}. {last}", "PERSON")]
        middle = self.fakers[locale].first_name()[0]
        return [Piece(f"{first} {middle}. {last}", "PERSON")]

    def first(self) -> Pieces:
        return [Piece(self._case(self._names()[1]), "PERSON")]

    def full(self) -> Pieces:
        _, first, last = self._names()
        return [Piece(self._case(f"{first} {last}"), "PERSON")]

    def titled(self) -> Pieces:
        locale, first, last = self._names()
        name = last if self.rng.random() < 0.7 else f"{first} {last}"
        return [Piece(self.rng.choice(lexicon.TITLES[locale]) + " "), Piece(name, "PERSON")]

    def last(self) -> Pieces:
        return [Piece(self._names()[2], "PERSON")]

    # -- places, organisations, groups ------------------------------------------------------------
    def city(self) -> Pieces:
        if self.rng.random() < 0.45:
            return self._one(self.rng.choice(lexicon.REAL_CITIES), "LOCATION")
        return self._one(self._faker().city(), "LOCATION")

    def country(self) -> Pieces:
        text = self.rng.choice(lexicon.COUNTRIES) if self.rng.random() < 0.7 else self.fakers["en_US"].country()
        if text.startswith("the ") and self.rng.random() < 0.5:
            return [Piece("the "), Piece(text[4:], "LOCATION")]
        return self._one(text, "LOCATION")

    def street(self) -> Pieces:
        return self._one(self._faker().street_address(), "LOCATION")

    def address(self) -> Pieces:
        return self._one(self._faker().address(), "LOCATION")

    def location(self) -> Pieces:
        return self.rng.choice((self.city, self.city, self.city, self.country, self.street, self.address))()

    def org(self) -> Pieces:
        roll = self.rng.random()
        if roll < 0.3:
            return self._one(self.rng.choice(lexicon.ORG_EXTRAS), "ORGANIZATION")
        faker = self._faker()
        locale = next(k for k, v in self.fakers.items() if v is faker)
        if roll < 0.45:
            text = f"{faker.last_name()} {self.rng.choice(lexicon.ORG_SUFFIXES[locale])}"
        else:
            text = faker.company()
        return self._one(text, "ORGANIZATION")

    def nationality(self) -> Pieces:
        pool = lexicon.NATIONALITY_NOUNS if self.rng.random() < 0.12 else lexicon.NATIONALITIES
        return self._one(self.rng.choice(pool), "NRP")

    def religion(self) -> Pieces:
        return self._one(self.rng.choice(lexicon.RELIGIONS), "NRP")

    def political(self) -> Pieces:
        return self._one(self.rng.choice(lexicon.POLITICAL_GROUPS), "NRP")

    def nrp(self) -> Pieces:
        return self.rng.choice((self.nationality, self.nationality, self.religion, self.political))()

    # -- dates and times --------------------------------------------------------------------------
    def _moment(self) -> datetime:
        day = date(2015, 1, 1) + timedelta(days=self.rng.randrange(4000))
        return datetime(day.year, day.month, day.day, self.rng.randrange(24), self.rng.randrange(60))

    def date(self) -> Pieces:
        """Calendar dates only: "tomorrow" or a bare "Friday" stay unlabelled, as in the templates' own words."""
        return self._one(self._moment().strftime(self.rng.choice(_DATE_FORMATS)), "DATE_TIME")

    def time(self) -> Pieces:
        text = self._moment().strftime(self.rng.choice(_TIME_FORMATS))
        if text.endswith(("AM", "PM")):
            text = text.lstrip("0")  # "9:30 AM", as people write it
        return self._one(text, "DATE_TIME")

    def datetime(self) -> Pieces:
        moment = self._moment()
        roll = self.rng.random()
        if roll < 0.4:
            text = moment.strftime(self.rng.choice(("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M")))
        else:
            day = moment.strftime(self.rng.choice(_DATE_FORMATS[:9]))
            text = f"{day} at {moment.strftime(self.rng.choice(_TIME_FORMATS[:3]))}"
        return self._one(text, "DATE_TIME")

    # -- negatives: real-looking text that is not an entity for this model ------------------------
    def tv(self) -> Pieces:
        return [Piece(self.rng.choice(self.tv_titles))]

    def film(self) -> Pieces:
        return [Piece(self.rng.choice(self.films))]

    def channel(self) -> Pieces:
        return [Piece(self.rng.choice(lexicon.CHANNELS))]

    def genre(self) -> Pieces:
        return [Piece(self.rng.choice(lexicon.GENRES))]

    def product(self) -> Pieces:
        return [Piece(self.rng.choice(lexicon.PRODUCTS))]

    def name_word(self) -> Pieces:
        return [Piece(self.rng.choice(lexicon.NAME_LIKE_WORDS))]

    def user_id(self) -> Pieces:
        return [Piece(f"user-{self.rng.randrange(10000, 99999)}")]

    def card(self) -> Pieces:
        digits = "3" + self.rng.choice("47") + "".join(str(self.rng.randrange(10)) for _ in range(13))
        if self.rng.random() < 0.3:
            digits = f"{digits[:4]} {digits[4:10]} {digits[10:]}"
        return [Piece(digits)]

    def iban(self) -> Pieces:
        text = self._faker().iban()
        if self.rng.random() < 0.4:
            text = " ".join(text[i : i + 4] for i in range(0, len(text), 4))
        return [Piece(text)]

    def email(self) -> Pieces:
        _, first, last = self._names()
        local = self.rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{self.rng.randrange(99)}"))
        local = re.sub(r"[^a-z0-9.]", "", local.lower().replace(" ", ""))
        return [Piece(f"{local or 'info'}@{self.rng.choice(lexicon.EMAIL_DOMAINS)}")]

    def phone(self) -> Pieces:
        return [Piece(_clean(self._faker().phone_number()))]

    def ticket(self) -> Pieces:
        return [Piece(f"{self.rng.choice(lexicon.TICKET_PREFIXES)}-{self.rng.randrange(10000, 999999)}")]

    def amount(self) -> Pieces:
        value = self.rng.randrange(100, 100000) / 100
        return [Piece(self.rng.choice((f"€{value:.2f}", f"EUR {value:.2f}", f"£{value:.2f}", f"{value:.2f} zł")))]

    def num(self) -> Pieces:
        return [Piece(str(self.rng.randrange(1, 12)))]

    def url(self) -> Pieces:
        return [Piece(f"https://{self.rng.choice(lexicon.EMAIL_DOMAINS)}/help/{self.rng.randrange(1000, 9999)}")]
