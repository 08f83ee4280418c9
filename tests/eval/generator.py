"""The independent evaluation set: labelled texts written apart from everything that trains or tunes deid.

`labelled_texts(count, seed)` returns `[(text, [(start, end, entity), ...])]` with Presidio entity names
(PERSON, LOCATION, PHONE_NUMBER, DATE_TIME, CREDIT_CARD, NRP, EMAIL_ADDRESS). Values come from the
hand-written files of `vocab/`, shapes from `templates.py`; nothing comes from Faker, from
`producers.memo*` or from `recognizers.ner` (see README.md). Deterministic for a seed, whatever
PYTHONHASHSEED is (no set iteration reaches the output).
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.eval.templates import DOCUMENTS

VOCAB = Path(__file__).parent / "vocab"
Span = tuple[int, int, str]
Labelled = list[tuple[str, list[Span]]]
SLOT = re.compile(r"\{([A-Z0-9]+)\}")
ENTITY_OF_SLOT = {
    "PERSON": "PERSON", "PERSON2": "PERSON", "ADDRESS": "LOCATION", "TOWN": "LOCATION",
    "PHONE": "PHONE_NUMBER", "PHONE2": "PHONE_NUMBER", "DATE": "DATE_TIME", "DOB": "DATE_TIME",
    "CARD": "CREDIT_CARD", "NRP": "NRP", "EMAIL": "EMAIL_ADDRESS", "CLOCK": "DATE_TIME",
}  # fmt: skip
FILLERS = ("SHOW", "ORDER", "MONEY")
ENTITIES: tuple[str, ...] = tuple(sorted(set(ENTITY_OF_SLOT.values())))
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Dr.", "Prof.", "Mx", "Sir", "Rev.", "Mr.", "Mrs.")
# Country calling code, national trunk prefix, then digit-group lengths of a subscriber number, and the
# leading digits a real number of that kind starts with (written from national numbering plans).
PHONE_PLANS: tuple[tuple[str, str, tuple[int, ...], tuple[str, ...]], ...] = (
    ("44", "0", (4, 6), ("7700", "7911", "7824", "7412")),  # UK mobile
    ("44", "0", (2, 4, 4), ("20", "29", "28")),  # London / Cardiff / Belfast
    ("44", "0", (3, 3, 4), ("113", "161", "121")),  # Leeds / Manchester / Birmingham
    ("1", "", (3, 3, 4), ("415", "312", "617", "206", "512")),  # US
    ("1", "", (3, 3, 4), ("416", "604", "514")),  # Canada
    ("49", "0", (3, 7), ("151", "160", "172", "176")),  # DE mobile
    ("49", "0", (2, 7), ("30", "40", "89")),  # Berlin / Hamburg / Munich
    ("33", "0", (1, 2, 2, 2, 2), ("6", "7", "1", "4")),  # FR
    ("31", "0", (1, 8), ("6",)),  # NL mobile
    ("34", "", (3, 3, 3), ("612", "699", "915", "932")),  # ES
    ("39", "", (3, 3, 4), ("333", "347", "320")),  # IT mobile
    ("48", "", (3, 3, 3), ("501", "602", "791", "885")),  # PL
    ("353", "0", (2, 3, 4), ("85", "87", "86")),  # IE mobile
    ("91", "0", (5, 5), ("98450", "99001", "91234")),  # IN mobile
    ("61", "0", (3, 3, 3), ("412", "433", "401")),  # AU mobile
    ("81", "0", (2, 4, 4), ("90", "80")),  # JP mobile
    ("234", "0", (3, 3, 4), ("803", "806", "813")),  # NG mobile
    ("254", "0", (3, 6), ("712", "722", "733")),  # KE mobile
    ("27", "0", (2, 3, 4), ("82", "83", "72")),  # ZA mobile
    ("55", "0", (2, 5, 4), ("11", "21")),  # BR mobile (São Paulo / Rio)
    ("90", "0", (3, 3, 2, 2), ("532", "542", "505")),  # TR mobile
)
CARD_PREFIXES = (("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16))
SHOP_WORDS = ("ORD", "PO", "INV", "A")


Part = Literal["dev", "test", "all"]


def half(items: tuple[str, ...], part: Part) -> tuple[str, ...]:
    """Even-indexed items for dev, odd for test, every item for all."""
    if part == "all":
        return items
    return items[0 if part == "dev" else 1 :: 2]


def _lines(name: str) -> list[str]:
    text = (VOCAB / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def vocabulary() -> dict[str, tuple[str, ...]]:
    """Every hand-written value list, by file stem (tests check them against deid's training data)."""
    return {path.stem: tuple(_lines(path.name)) for path in sorted(VOCAB.glob("*.txt"))}


@dataclass(frozen=True)
class Piece:
    text: str
    entity: str | None = None


def luhn_complete(body: str) -> str:
    """`body` plus the Luhn check digit."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return body + str((10 - total % 10) % 10)


class EvalWriter:
    """Draws values from the vocabulary with one seeded generator (no Faker, no hash-ordered sets)."""

    def __init__(self, seed: int, part: Part = "all") -> None:
        self.rng = random.Random(seed)
        vocab = vocabulary()
        self.given = half(vocab["given_names"], part)
        self.surnames = half(vocab["surnames"], part)
        self.titles = half(vocab["tv_titles"], part)
        self.nrp = half(vocab["nrp"], part)
        self.documents = half(DOCUMENTS, part)
        self.streets: dict[str, list[str]] = {}
        for row in vocab["streets"]:
            style, street = row.split("|")
            self.streets.setdefault(style, []).append(street)
        self.towns: dict[str, list[tuple[str, str, str]]] = {}
        for row in vocab["towns"]:
            style, town, postcode, region = row.split("|")
            self.towns.setdefault(style, []).append((town, postcode, region))
        self.countries = dict(row.split("|") for row in vocab["countries"])
        self.styles = sorted(self.towns)

    # -- people --------------------------------------------------------------------------------
    def person(self) -> list[Piece]:
        rng = self.rng
        first, last = rng.choice(self.given), rng.choice(self.surnames)
        roll = rng.random()
        if roll < 0.30:
            name = f"{first} {last}"
        elif roll < 0.40:
            name = first
        elif roll < 0.50:
            return [Piece(rng.choice(HONORIFICS) + " "), Piece(last, "PERSON")]
        elif roll < 0.58:
            return [Piece(rng.choice(HONORIFICS) + " "), Piece(f"{first} {last}", "PERSON")]
        elif roll < 0.66:
            name = f"{first[0]}. {last}"
        elif roll < 0.72:
            name = f"{first} {rng.choice(self.given)[0]}. {last}"
        elif roll < 0.78:
            name = f"{last}, {first}"
        elif roll < 0.86:
            name = f"{first} {last}".lower()
        elif roll < 0.93:
            name = f"{first} {last}".upper()
        else:
            name = f"{first} {rng.choice(self.given)} {last}"
        return [Piece(name, "PERSON")]

    def email(self) -> str:
        rng = self.rng
        first = re.sub(r"[^a-z]", "", rng.choice(self.given).lower()) or "x"
        last = re.sub(r"[^a-z]", "", rng.choice(self.surnames).lower()) or "y"
        local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}"))
        return f"{local}@{rng.choice(('mailbox.org', 'posteo.de', 'icloud.com', 'yahoo.co.uk', 'aol.com'))}"

    # -- places --------------------------------------------------------------------------------
    def address(self) -> str:
        rng = self.rng
        style = rng.choice(self.styles)
        street = rng.choice(self.streets[style])
        town, postcode, region = rng.choice(self.towns[style])
        number = str(rng.randint(1, 240))
        if style in {"de", "nl", "es", "it", "pl"}:
            first_line = f"{street} {number}" if style != "es" else f"{street}, {number}"
            if style == "es" and rng.random() < 0.5:
                first_line += f", {rng.randint(1, 8)}º {rng.choice('ABCD')}"
            town_line = f"{postcode} {town}"
        elif style == "fr":
            first_line, town_line = f"{number} {street}", f"{postcode} {town}"
        elif style == "us":
            unit = f", Apt {rng.randint(1, 30)}{rng.choice('ABC')}" if rng.random() < 0.4 else ""
            first_line, town_line = f"{number} {street}{unit}", f"{town}, {region} {postcode}"
        elif style in {"au", "ca"}:
            first_line, town_line = f"{number} {street}", f"{town} {region} {postcode}"
        elif style == "in":
            first_line = (
                f"Flat {rng.randint(1, 40)}, {rng.choice(('Lotus', 'Sai Krupa', 'Green Park'))} Apartments, {street}"
            )
            town_line = f"{town} {postcode}, {region}"
        else:
            flat = f"Flat {rng.randint(1, 9)}, " if rng.random() < 0.3 else ""
            first_line, town_line = f"{flat}{number} {street}", f"{town} {postcode}"
        lines = [first_line, town_line]
        if rng.random() < 0.5:
            lines.append(self.countries[style])
        return "\n".join(lines) if rng.random() < 0.6 else ", ".join(lines)

    def town(self) -> str:
        return self.rng.choice(self.towns[self.rng.choice(self.styles)])[0]

    # -- numbers ---------------------------------------------------------------------------------
    def phone(self) -> str:
        rng = self.rng
        code, trunk, groups, leads = rng.choice(PHONE_PLANS)
        lead = rng.choice(leads)
        digits = lead + "".join(str(rng.randrange(10)) for _ in range(sum(groups) - len(lead)))
        parts, position = [], 0
        for size in groups:
            parts.append(digits[position : position + size])
            position += size
        style = rng.randrange(7)
        if code == "1":
            return rng.choice((
                f"({parts[0]}) {parts[1]}-{parts[2]}", f"{parts[0]}-{parts[1]}-{parts[2]}",
                f"+1 {parts[0]} {parts[1]} {parts[2]}", f"{parts[0]}.{parts[1]}.{parts[2]}",
                f"1-{parts[0]}-{parts[1]}-{parts[2]}",
            ))  # fmt: skip
        if style == 0:
            return f"+{code} {' '.join(parts)}"
        if style == 1:
            return f"00{code} {' '.join(parts)}"
        if style == 2 and trunk:
            return f"+{code} ({trunk}){' '.join(parts)}"
        if style == 3 and trunk:
            return f"({trunk}{parts[0]}) {' '.join(parts[1:])}"
        if style == 4:
            return f"{trunk}{'-'.join(parts)}"
        if style == 5:
            return f"+{code}{''.join(parts)}"
        return f"{trunk}{' '.join(parts)}"

    def card(self) -> str:
        rng = self.rng
        prefix, length = rng.choice(CARD_PREFIXES)
        body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
        number = luhn_complete(body)
        sep = rng.choice((" ", "-", ""))
        if length == 15:
            return sep.join((number[:4], number[4:10], number[10:]))
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))

    def date(self, born: bool = False) -> str:
        rng = self.rng
        year = rng.randint(1932, 2004) if born else rng.randint(2009, 2026)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        name = MONTHS[month - 1]
        ordinal = f"{day}{'th' if 10 <= day % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"
        forms = (
            f"{ordinal} of {name} {year}", f"{name} {ordinal}, {year}", f"{day} {name[:3]} {year}",
            f"{day:02d}/{month:02d}/{year}", f"{month}/{day}/{year % 100:02d}", f"{year}-{month:02d}-{day:02d}",
            f"{day}.{month}.{year}", f"{WEEKDAYS[rng.randrange(7)]}, {day} {name} {year}", f"{name} {year}",
            f"{name[:3]}. {day}, {year}", f"the {ordinal} of {name}", f"{day}-{name[:3]}-{year % 100:02d}",
        )  # fmt: skip
        text = rng.choice(forms)
        return text

    # -- fillers ---------------------------------------------------------------------------------
    def filler(self, slot: str) -> str:
        rng = self.rng
        if slot == "SHOW":
            return rng.choice(self.titles)
        if slot == "ORDER":
            return f"{rng.choice(SHOP_WORDS)}{rng.randint(10000, 999999)}"
        if slot == "MONEY":
            return rng.choice(("£", "$", "€", "EUR ", "USD ")) + f"{rng.randint(3, 900)}.{rng.randrange(100):02d}"
        raise KeyError(slot)

    def clock(self) -> str:
        """A time of day: Presidio's DATE_TIME covers times as well as dates."""
        rng = self.rng
        hour, minutes = rng.randint(1, 12), rng.choice(("00", "15", "30", "45"))
        return rng.choice(
            (f"{hour}pm", f"{rng.randint(7, 20)}:{minutes}", f"{hour}.{minutes} a.m.", "noon", "half past two")
        )

    def value(self, slot: str) -> list[Piece]:
        if slot in {"PERSON", "PERSON2"}:
            return self.person()
        makers = {
            "ADDRESS": self.address, "TOWN": self.town, "PHONE": self.phone, "PHONE2": self.phone,
            "DATE": self.date, "DOB": lambda: self.date(born=True), "CARD": self.card, "EMAIL": self.email,
            "NRP": lambda: self.rng.choice(self.nrp), "CLOCK": self.clock,
        }  # fmt: skip
        if slot in makers:
            return [Piece(makers[slot](), ENTITY_OF_SLOT[slot])]
        if slot in FILLERS:
            return [Piece(self.filler(slot))]
        raise KeyError(f"unknown evaluation slot {{{slot}}}")

    def typo(self, literal: str) -> str:
        """Now and then swap two letters of a filler word (people type fast); entities stay as written."""
        words = literal.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if not candidates or self.rng.random() > 0.25:
            return literal
        index = self.rng.choice(candidates)
        word = words[index]
        at = self.rng.randrange(1, len(word) - 2)
        words[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        return " ".join(words)

    def document(self) -> tuple[str, list[Span]]:
        template = self.rng.choice(self.documents)
        out: list[str] = []
        spans: list[Span] = []
        length, position = 0, 0
        for match in SLOT.finditer(template):
            for piece in [Piece(self.typo(template[position : match.start()])), *self.value(match.group(1))]:
                if piece.entity is not None:
                    spans.append((length, length + len(piece.text), piece.entity))
                out.append(piece.text)
                length += len(piece.text)
            position = match.end()
        out.append(self.typo(template[position:]))
        return "".join(out), spans


def labelled_texts(count: int = 1500, seed: int = 20240, part: Part = "test") -> Labelled:
    """`count` labelled documents of the independent set; the same seed gives the same texts.

    `part` "test" (what the bench reports) and "dev" (what one may read to find the detector's misses)
    use disjoint halves of the names, titles, NRP words and document shapes; "all" uses both."""
    writer = EvalWriter(seed, part)
    return [writer.document() for _ in range(count)]


def slot_names() -> set[str]:
    return {m.group(1) for template in DOCUMENTS for m in SLOT.finditer(template)}
