"""LOCATION for postal addresses and town names, from the way addresses are written.

A small NER model finds "Zeppelinstraße 168" but not the "97070 Würzburg" line under it, and calls "Stockport
SK4 2HD" a company. Here an address is assembled from the parts any postal address is made of:

- a street line: "12 Wexford Road", "7 rue des Tanneurs", "Via dei Serragli 7", "Lindenallee 12",
  "Calle de Alcalá, 45", with an optional "Flat 3, " / "Apt 4B, " before or after it (0.6);
- a town line: a postcode of one of the usual shapes (UK, US state + ZIP, Canada, Ireland's Eircode,
  Netherlands 1234 AB, Poland 12-345, five or six digits) beside a capitalised town name (0.6);
- a town, region or country that Faker's gazetteers know, after "in", "near", "from", "to", … (0.5).

Parts separated only by commas, spaces or line breaks merge into one span, with a trailing country
or region line: a multi-line address is one LOCATION (0.75).
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from recognizers.custom.base import finding
from recognizers.gazetteers import dictionary_words, given_names, place_words

_CAP = r"[A-ZÀ-ÝŁŚŻŹĆŃÓ][\wÀ-ÿ'\u2019.\-]*"
_WORDS = rf"(?:{_CAP}|of|the|de|des|du|la|le|del|dei|della|di|van|der)"
_SUFFIX = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Av|Drive|Dr|Lane|Ln|Close|Crescent|Cres|Mews|Terrace|Way|Boulevard|Blvd|"
    r"Parade|Grove|Place|Pl|Court|Ct|Square|Sq|Gardens|Row|Hill|Walk|Highway|Hwy|Circle|Trail|Parkway|Pkwy|"
    r"Rise|Hollow|Bluff|Green|Wharf|Quay|Broadway)\.?"
)
_DIRECTION = r"(?:\s+(?:North|South|East|West|Upper|Lower|NW|NE|SW|SE|N|S|E|W))?"
_UNIT = r"(?:(?:Flat|Apt\.?|Apartment|Unit|Suite|Ste\.?)\s*\d{1,4}[A-Z]?,?\s+)?"
_UNIT_AFTER = r"(?:,?\s+(?:Flat|Apt\.?|Apartment|Unit|Suite|Ste\.?)\s*\d{1,4}[A-Z]?)?"
_CONTINENTAL_KEY = (
    r"(?:Calle|C/|Carrer|Avenida|Avda\.?|Plaza|Paseo|Camino|Via|Viale|Corso|Piazza|Piazzale|Largo|Vicolo|Rua|"
    r"Travessa|ulica|ul\.|aleja|al\.|plac|os\.|Rue|Avenue|Boulevard|Chemin|Allée|Place|Quai|Impasse|Route)"
)
_FRENCH_KEY = r"(?:rue|avenue|av\.|boulevard|bd|impasse|chemin|allée|place|quai|route|cours|square)"
_COMPOUND = (
    r"[\wÀ-ÿ\-]*(?:straße|strasse|str\.|weg|allee|gasse|ring|platz|damm|ufer|chaussee|laan|straat|gracht|"
    r"kade|plein|singel|dijk|steeg|gade|vej|gatan|vägen|veien|gata|katu|tie)"
)
STREET = re.compile(
    "|".join(
        (
            rf"{_UNIT}\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_WORDS}\s+){{0,4}}{_SUFFIX}{_DIRECTION}{_UNIT_AFTER}(?!\w)",
            rf"{_UNIT}\b\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+{_FRENCH_KEY}\s+[^\n,\d]{{2,40}}?(?=\s*(?:[,\n]|$|\s\d{{5}}))",
            rf"\b{_CONTINENTAL_KEY}\s+[^\n,\d]{{2,40}}?,?\s+\d{{1,4}}[A-Za-z]?\b(?:,\s*\d{{1,2}}º\s?[A-Z]\b)?",
            rf"(?i:\b{_COMPOUND})\s+\d{{1,4}}[a-z]?\b",
            rf"\b(?:Am|An der|Im|Auf der|Zum|Zur|In der)\s+{_CAP}\s+\d{{1,4}}[a-z]?\b",
        )
    )
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|"
    "OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
_TOWN_WORD = r"[A-ZÀ-ÝŁŚŻŹĆŃÓ][\wÀ-ÿ'\u2019\-]*"
_TOWN = rf"{_TOWN_WORD}(?:[ \-]{_TOWN_WORD}){{0,2}}"  # one line, no full stop: "Kielce. Agent" is no town
TOWN_LINE = re.compile(
    "|".join(
        (
            rf"\b{_TOWN},?\s+[A-Z]{{1,2}}\d[A-Z\d]?\s\d[A-Z]{{2}}\b",  # UK: Norwich NR2 3JL
            rf"\b{_TOWN},\s(?:{_US_STATES})\s\d{{5}}(?:-\d{{4}})?\b",  # US: Dayton, OH 45402
            rf"\b{_TOWN}\s(?:AB|BC|MB|NB|NL|NS|ON|PE|QC|SK)\s[A-Z]\d[A-Z]\s?\d[A-Z]\d\b",  # CA
            rf"\b{_TOWN}\s(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s\d{{4}}\b",  # AU
            rf"\b{_TOWN}\s[A-Z]\d{{2}}\s?[A-Z0-9]{{4}}\b",  # IE Eircode
            rf"\b\d{{4}}\s?[A-Z]{{2}}\s+{_TOWN}",  # NL
            rf"\b\d{{2}}-\d{{3}}\s+{_TOWN}",  # PL
            rf"\b\d{{5}}\s+{_TOWN}",  # DE, FR, ES, IT, ...
            rf"\b{_TOWN}\s\d{{6}}\b",  # IN PIN
        )
    )
)
_DIGIT = re.compile(r"\d")
_PLACE_CUE = re.compile(r"\b(?:in|near|from|to|at|outside|around|via|towards|moved to|lives in)\s+$", re.IGNORECASE)
_PLACE = re.compile(rf"{_CAP}(?:[\s\-]{_CAP}){{0,2}}")
_GAP = re.compile(r"^[ \t]*(?:,[ \t]*|\n[ \t]*|,[ \t]*\n[ \t]*)$")
_TAIL = re.compile(rf"^([ \t]*(?:,[ \t]*|\n[ \t]*))({_CAP}(?:[ \t]{_CAP}){{0,2}})(?=[ \t]*(?:[\n,.;:!?)]|$))")


class PostalAddressRecognizer(LocalRecognizer):
    """LOCATION: street lines, postcode + town lines, gazetteer towns after a place word; merged."""

    ENTITY = "LOCATION"
    PART = 0.6
    PLACE = 0.5
    WHOLE = 0.75

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY], supported_language=supported_language, name=type(self).__name__
        )

    def load(self) -> None:
        self.places = place_words()
        self.given = given_names()
        self.words = dictionary_words()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        parts: list[tuple[int, int, str]] = []
        if _DIGIT.search(text):  # every street line and town line holds a number; most short values hold none
            parts = sorted(
                [(m.start(), m.end(), "street line") for m in STREET.finditer(text)]
                + [(m.start(), m.end(), "postcode and town") for m in TOWN_LINE.finditer(text)]
            )
        parts += [p for p in self._places(text) if not any(s < p[1] and p[0] < e for s, e, _ in parts)]
        return [self._result(*merged) for merged in self._merge(text, sorted(parts))]

    def _known_place(self, phrase: str) -> bool:
        words = [w.lower() for w in re.split(r"[\s\-]+", phrase) if w]
        return (
            bool(words)
            and all(w in self.places for w in words)
            and words[0] not in self.given
            and not (len(words) == 1 and words[0] in self.words)
        )

    def _places(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for match in _PLACE.finditer(text):
            if _PLACE_CUE.search(text[max(0, match.start() - 12) : match.start()]):
                phrase = match.group().rstrip(".")
                if self._known_place(phrase):
                    found.append((match.start(), match.start() + len(phrase), "known place after a place word"))
        return found

    def _merge(self, text: str, parts: list[tuple[int, int, str]]) -> list[tuple[int, int, float, str]]:
        merged: list[list] = []
        for start, end, why in parts:
            if merged and (start <= merged[-1][1] or _GAP.match(text[merged[-1][1] : start])):
                last = merged[-1]
                last[1] = max(last[1], end)
                last[2] += 1
                continue
            merged.append([start, end, 1, why])
        results = []
        for start, end, count, why in merged:
            tail = _TAIL.match(text[end:])
            if tail and count and self._known_place(tail.group(2)):
                end += tail.end()
                count += 1
            if count > 1:
                results.append((start, end, self.WHOLE, "postal address (street, town, country lines)"))
            else:
                results.append((start, end, self.PLACE if why.startswith("known") else self.PART, why))
        return results

    def _result(self, start: int, end: int, score: float, explanation: str) -> RecognizerResult:
        return finding(self, self.ENTITY, start, end, score, explanation)
