"""What every domain generator shares: seeding, value pools, date rendering, Luhn.

Generation is a throughput path (`./scripts/bench produce`): Faker is slow per call (tens of µs to ms),
so each generator draws a fixed pool of Faker values once, at start, from a seeded Faker, and then picks
from the pools with a seeded `random.Random`. The same seed gives the same pools and the same picks,
hence the same events.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, ClassVar, TypeVar

from faker import Faker
from pydantic import BaseModel, ConfigDict, Field

from deid.domains import Domain

T = TypeVar("T")
Span = tuple[int, int, str]
"""A PII span in a text: (start, end, Presidio entity name), `text[start:end]` being the value."""

# Events fall in this window; real feeds are a few years deep.
FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2024, 12, 31)


class GeneratorOptions(BaseModel):
    """Knobs shared by the generators; each generator reads the ones that apply to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(5000, ge=1, le=90000, description="How many distinct subjects the events are about")
    consent_ratio: float = Field(0.7, ge=0.0, le=1.0, description="profile: share of data_share_consent=true")


@cache
def _faker(locale: str) -> Faker:
    # Building a Faker proxy costs ~0.3 s per locale; keep one per process and re-seed it before each use.
    fake = Faker(locale)
    _stable_word_lists(fake)
    return fake


def _stable_word_lists(fake: Faker) -> None:
    """Put word lists that Faker builds from a set (it_IT's cities) in a fixed order.

    A set's order follows PYTHONHASHSEED, so the same seed drew different towns in two processes; a
    sorted list makes every draw depend on the seed alone.
    """
    for provider in fake.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list | tuple):
            provider.cities = sorted(cities)


def seeded_faker(locale: str, seed: int | str) -> Faker:
    """The process's Faker for `locale`, seeded so that the calls that follow are reproducible."""
    fake = _faker(locale)
    fake.seed_instance(seed)
    return fake


def pool(size: int, make: Callable[[], T]) -> list[T]:
    """`size` values from `make` (a seeded Faker call), drawn once."""
    return [make() for _ in range(size)]


def uniform_picker(rng: random.Random, items: Sequence[T]) -> Callable[[], T]:
    """Picks items uniformly; about twice as fast as `rng.choice` on the per-event path."""
    values, size, draw = list(items), len(items), rng.random
    if not size:
        raise ValueError("cannot pick from an empty pool")

    def pick() -> T:
        return values[int(draw() * size)]

    return pick


def weighted_picker(rng: random.Random, items: Sequence[T], skew: float = 1.0, shuffle: bool = True) -> Callable[[], T]:
    """Picks items with Zipf-like popularity, as real catalogues behave: the first ones (after a seeded
    shuffle unless `shuffle` is false) are picked most often."""
    order = list(items)
    if shuffle:
        rng.shuffle(order)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** skew for rank in range(len(order))))
    total, last, draw = cumulative[-1], len(order) - 1, rng.random

    def pick() -> T:
        return order[min(bisect_right(cumulative, draw() * total), last)]

    return pick


def days_between(first: date = FIRST_DAY, last: date = LAST_DAY) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def rendered_days(fmt: str, first: date = FIRST_DAY, last: date = LAST_DAY) -> list[str]:
    """Every day of the window rendered once with `fmt`: picking a string is faster than strftime per event."""
    return [day.strftime(fmt) for day in days_between(first, last)]


def epoch_seconds(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def ascii_slug(text: str) -> str:
    """ "Łukasz Nowak-Żak" → "lukasz.nowak-zak" (what a mail address made from a name looks like)."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    plain = folded.encode("ascii", "ignore").decode("ascii").lower()
    return ".".join(part for part in plain.replace("'", "").split() if part)


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + check` pass the Luhn test."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # doubled: these sit at odd positions once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


class EventGenerator(ABC):
    """One domain's synthetic event stream. Subclasses set `domain_name` and implement `event()`.

    Formats (dates, consent levels) come from the `Domain` the generator is built for, so events match the
    registry in force.
    """

    domain_name: ClassVar[str]
    labels_spans: ClassVar[bool] = False
    """True when `labelled()` returns the PII spans of the event's free text."""

    def __init__(self, domain: Domain, seed: int, options: GeneratorOptions | None = None) -> None:
        self.domain = domain
        self.seed = seed
        self.options = options or GeneratorOptions()
        # A str seed is hashed with SHA-512 by `random`: stable across processes and Python versions.
        self.rng = random.Random(f"{self.domain_name}:{seed}")
        self.setup()

    @abstractmethod
    def setup(self) -> None:
        """Draw the value pools; called once from __init__."""

    def faker(self, locale: str = "en_US") -> Faker:
        return seeded_faker(locale, f"{self.domain_name}:{locale}:{self.seed}")

    def date_format(self, field: str) -> str:
        spec = self.domain.fields[field]
        if spec.format is None:
            raise ValueError(f"domain {self.domain.name!r}: field {field!r} has no date format")
        return spec.format

    def user_ids(self, prefix: str = "user-") -> list[str]:
        """`options.users` distinct ids `user-NNNNN` (five digits, as the seed fixture has them)."""
        return [f"{prefix}{n:05d}" for n in self.rng.sample(range(10000, 100000), self.options.users)]

    @abstractmethod
    def event(self) -> dict[str, Any]:
        """The next event of the stream."""

    def labelled(self) -> tuple[dict[str, Any], list[Span] | None]:
        """The next event with the PII spans of its free text, for generators that know them."""
        return self.event(), None


class PersonNames:
    """Full names of one locale, composed from pools of Faker first and last names (fast, and ~10⁴ combinations
    per gender where a pool of whole names would repeat)."""

    def __init__(self, fake: Faker, rng: random.Random, size: int = 100) -> None:
        self.rng = rng
        self.female = list(dict.fromkeys(pool(size, fake.first_name_female)))
        self.male = list(dict.fromkeys(pool(size, fake.first_name_male)))
        self.last = list(dict.fromkeys(pool(size, fake.last_name)))

    def first(self, gender: str | None = None) -> str:
        if gender is None:
            gender = "female" if self.rng.random() < 0.5 else "male"
        return self.rng.choice(self.female if gender == "female" else self.male)

    def full(self, gender: str | None = None) -> str:
        return f"{self.first(gender)} {self.rng.choice(self.last)}"
