"""PERSON from the shape of a name: given-name and surname gazetteers of every Faker locale, courtesy
titles, initials, "Surname, Given" order, upper- and lower-case writing.

A small NER model misses names it never saw and calls many of them places or companies. This recognizer
looks at runs of words joined by single spaces and scores what the run shows:

- a courtesy title before capitalised words ("Dr Okafor", "Mrs Aiko Tanaka"): 0.85;
- two to four name words, the first a known given name or an initial ("Ngozi Balogun", "K. Mensah"): 0.85,
  in capitals or lower case only when every word is a known name word (0.8 / 0.6);
- "Balogun, Ngozi": 0.8;
- one capitalised known given name that is not also an English word ("Sipho"): 0.55;
- one capitalised known surname, not an English word: 0.4 (too weak to override a place reading).

Words that are ordinary English words ("Will", "Grace") count only beside a clearer name word. Month and
weekday names never count.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from recognizers.custom.base import finding
from recognizers.custom.nrp import nrp_phrases
from recognizers.gazetteers import dictionary_words, given_names, place_words, street_words, surnames

_NUMBER_BEFORE = re.compile(r"(?<![\d.:/-])\b\d{1,4}[a-zA-Z]?,? $")
_PLACE_COMPOUND = re.compile(r"-(?:sur|sous|en|le|la|les|lès|on|upon|am|an|im|bei|di|de|del|in)-")
# Words that open a place name ("Sainte Margaret", "New Anne", "Port Talbot"): the name after is a place's.
PLACE_PREFIXES = frozenset({
    "saint", "sainte", "st", "san", "santa", "santo", "são", "sankt", "new", "north", "south", "east", "west",
    "port", "mount", "lake", "fort", "bad", "villa", "ville",
})  # fmt: skip
_HOUSE_NUMBER = re.compile(r",? \d{1,4}[a-z]?\b(?![\d/.:-])")
_TOKEN = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019\-](?=[^\W\d_]))*\.?")
HONORIFICS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lady", "lord", "rev", "herr", "frau", "mme",
    "mlle", "madame", "monsieur", "sr", "sra", "srta", "dott", "sig", "dhr", "mevr", "pan", "pani", "capt",
    "sgt", "insp", "det", "mrs.", "mr.",
})  # fmt: skip
PARTICLES = frozenset({"van", "der", "den", "de", "von", "da", "di", "del", "della", "la", "le", "du", "al", "el",
                       "bin", "ibn", "ter", "ten", "dos", "das", "zu", "y", "mac"})  # fmt: skip
CALENDAR = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues",
    "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
})  # fmt: skip
PERSON_CUES = frozenset({
    "dear", "hi", "hello", "hey", "thanks", "name", "patient", "applicant", "tenant", "landlord", "driver", "guest",
    "holder", "contact", "regards", "cheers", "sincerely", "customer", "client", "mr", "mrs", "ms", "dr",
})  # fmt: skip
# Words that open a street or building name ("Carrer de Verdi", "Via Roma", "Flat 3"): never a name's.
STREET_WORDS = frozenset({
    "calle", "carrer", "avenida", "avda", "plaza", "paseo", "via", "viale", "corso", "piazza", "largo", "rua",
    "rue", "avenue", "boulevard", "chemin", "allée", "ulica", "aleja", "flat", "apt", "apartments", "apartment",
    "suite", "unit", "road", "street", "lane", "drive",
})  # fmt: skip
NOT_NAMES = frozenset({"dear", "hello", "hi", "hey", "thanks", "regards", "best", "name", "the", "and", "from",
                       "to", "tel", "phone", "dob", "card", "order", "ref", "note", "re", "fwd", "cc"})  # fmt: skip


class _Word:
    """A word of the text with what the scan asks of it, computed once (asked many times per word)."""

    __slots__ = ("bare", "case", "end", "is_initial", "lower", "start", "text")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text
        bare = self.bare = text.rstrip(".")
        self.lower = bare.lower()
        self.is_initial = len(bare) == 1 and bare.isupper() and text.endswith(".")
        if bare.isupper() and len(bare) > 1:
            self.case = "upper"
        elif bare[:1].isupper():
            self.case = "cap"
        else:
            self.case = "lower"


class PersonNameRecognizer(LocalRecognizer):
    """PERSON from gazetteers and name shape (see the module docstring for the scores)."""

    ENTITY = "PERSON"
    TITLED = 0.85
    FULL = 0.85
    FULL_UPPER = 0.8
    FULL_LOWER = 0.6
    FULL_UNKNOWN = 0.75
    CUED = 0.6
    INVERTED = 0.8
    GIVEN_ALONE = 0.55
    SURNAME_ALONE = 0.4
    CONTEXT = ("name", "dear", "hi", "hello", "mr", "mrs", "ms", "dr", "contact", "called")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            context=list(self.CONTEXT),
            name=type(self).__name__,
        )

    def load(self) -> None:
        self.given = given_names()
        self.surnames = surnames()
        self.words = dictionary_words() | STOP_WORDS
        self.places = place_words()
        self.streets = street_words() | STREET_WORDS
        # "Christian", "Tory": a group word (NRP) is not read as a name on its own evidence.
        self.groups = frozenset(p.lower() for p in nrp_phrases() if " " not in p)

    # -- word classes ------------------------------------------------------------------------------
    def _name_word(self, word: _Word) -> bool:
        low = word.lower
        listed = low in self.given or low in self.surnames
        return listed and low not in CALENDAR and low not in NOT_NAMES and low not in self.groups

    def _clear_name(self, word: _Word) -> bool:
        """A name word that is not also an ordinary English word."""
        return self._name_word(word) and word.lower not in self.words

    def _unknown(self, word: _Word) -> bool:
        """In no list at all: not a name word, not an English word, not a place."""
        low = word.lower
        known = self._name_word(word) or low in self.words or low in self.places
        return not (known or low in CALENDAR or low in STREET_WORDS or low in NOT_NAMES or low in HONORIFICS)

    def _fits(self, word: _Word) -> bool:
        """Could be part of a capitalised name: a name word, an unknown capitalised word, an initial."""
        if word.is_initial:
            return True
        low = word.lower
        if low in CALENDAR or low in NOT_NAMES or low in HONORIFICS or low in STREET_WORDS:
            return False
        if _PLACE_COMPOUND.search(low):
            return False  # "Joubert-sur-Mer", "Stratford-upon-Avon"
        return self._name_word(word) or low not in self.words

    # -- scanning ----------------------------------------------------------------------------------
    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        words = [_Word(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        results: list[RecognizerResult] = []
        index = 0
        while index < len(words):
            found = self._at(text, words, index)
            if found is None:
                index += 1
                continue
            start, end, score, why, next_index = found
            if not self._street_name(text, words, index, next_index):
                results.append(self._result(start, end, score, why))
            index = next_index
        return results

    def _run(self, text: str, words: list[_Word], index: int, case: str) -> int:
        """How many words from `index` on are joined by single spaces and written in `case`."""
        length = 0
        while index + length < len(words):
            word = words[index + length]
            if length and text[words[index + length - 1].end : word.start] != " ":
                break
            if word.is_initial or (word.lower in PARTICLES and length > 0):
                length += 1
                continue
            if word.case != case:
                break
            length += 1
            if length == 4:
                break
        while length and words[index + length - 1].lower in PARTICLES:
            length -= 1  # a name does not end on "van"
        return length

    def _at(self, text: str, words: list[_Word], i: int) -> tuple[int, int, float, str, int] | None:
        word = words[i]
        if word.lower in HONORIFICS and i + 1 < len(words) and text[word.end : words[i + 1].start] in {" ", ". "}:
            nxt = words[i + 1]
            if nxt.case in {"cap", "upper"} and self._fits(nxt):
                run = self._run(text, words, i + 1, nxt.case)
                run = self._trim(words, i + 1, run)
                if run:
                    last = words[i + run]
                    return nxt.start, last.end if not last.text.endswith(".") or last.is_initial else last.end - 1, \
                        self.TITLED, "courtesy title before a name", i + 1 + run  # fmt: skip
        if word.case == "lower" and not self._name_word(word):
            return None
        inverted = self._inverted(text, words, i)
        if inverted is not None:
            return inverted
        case = word.case if not word.is_initial else "cap"
        run = self._trim(words, i, self._run(text, words, i, case))
        if run >= 2:
            judged = self._judge_full(words[i : i + run], case)
            if judged is not None:
                return words[i].start, self._end(words[i + run - 1]), judged[0], judged[1], i + run
        cued = self._cued(text, words, i)
        if cued is not None:
            return cued
        if case == "cap" and not word.is_initial and self._clear_name(word) and word.lower not in self.places:
            if word.lower in self.given:
                return word.start, self._end(word), self.GIVEN_ALONE, "a known given name", i + 1
            return word.start, self._end(word), self.SURNAME_ALONE, "a known surname", i + 1
        return None

    def _street_name(self, text: str, words: list[_Word], first: int, after: int) -> bool:
        """Streets are named after people: "81 Thomas Station", "Vicolo Venditti, 28", "Rogers Mills"."""
        if _NUMBER_BEFORE.search(text[max(0, words[first].start - 8) : words[first].start]):
            return True  # a house number right before
        before = words[first - 1] if first else None
        opener = before is not None and (before.lower in self.streets or before.lower in PLACE_PREFIXES)
        if opener and before.case == "cap" and text[before.end : words[first].start] == " ":
            return True
        if words[first].lower in self.given:
            return False
        last = words[after - 1]
        return (after - first >= 2 and last.lower in self.streets) or bool(_HOUSE_NUMBER.match(text[last.end :]))

    def _cued(self, text: str, words: list[_Word], i: int) -> tuple[int, int, float, str, int] | None:
        """An unknown capitalised word right after a word that announces a person ("Dear Ploy", "Name: Oksana")."""
        word = words[i]
        if i == 0 or word.case != "cap" or not self._unknown(word) or len(word.bare) < 3:
            return None
        before = words[i - 1]
        gap = text[before.end : word.start]
        if before.lower not in PERSON_CUES or gap not in {" ", ": ", ", ", " - "}:
            return None
        return word.start, self._end(word), self.CUED, f"unknown capitalised word after {before.lower!r}", i + 1

    def _trim(self, words: list[_Word], i: int, run: int) -> int:
        """Drop trailing words that cannot belong to a name."""
        while run and not self._fits(words[i + run - 1]):
            run -= 1
        if run and not all(self._fits(w) or w.lower in PARTICLES for w in words[i : i + run]):
            run = next(k for k in range(run) if not (self._fits(words[i + k]) or words[i + k].lower in PARTICLES))
        return run

    @staticmethod
    def _end(word: _Word) -> int:
        # "Balogun." at a sentence end: the full stop is not part of the name, an initial's is.
        return word.end - 1 if word.text.endswith(".") and not word.is_initial else word.end

    def _judge_full(self, run: list[_Word], case: str) -> tuple[float, str] | None:
        names = [w for w in run if not w.is_initial and w.lower not in PARTICLES]
        if not names:
            return None
        first = run[0]
        starts_like_name = first.is_initial or first.lower in self.given
        known = [w for w in names if self._name_word(w)]
        clear = [w for w in names if self._clear_name(w)]
        # An unknown word (in no list, not an English word, not a place) beside a clear name word is taken
        # for a name word: "Deepika Nagy", "Morag Entwistle" (the lists cannot hold every name).
        unknown = [w for w in names if self._unknown(w)]
        if case == "cap":
            if starts_like_name and (len(known) >= 2 or (first.is_initial and names) or clear):
                return self.FULL, "given name (or initial) and surname"
            if len(known) == len(names) and clear:
                return self.FULL, "every word a known name word"
            if clear and len(known) + len(unknown) == len(names):
                return self.FULL_UNKNOWN, "a known name word beside unknown capitalised words"
            return None
        if case == "lower" and len(names) == 2 and clear and len(known) + len(unknown) == 2 and not unknown[1:]:
            return self.FULL_LOWER, "a known name word beside an unknown word, in lower case"
        if case == "upper" and starts_like_name and clear and len(known) + len(unknown) == len(names):
            return self.FULL_UPPER, "a known given name and name-like words in capitals"
        if len(known) != len(names) or not clear or not starts_like_name:
            return None
        if case == "upper":
            return self.FULL_UPPER, "known name words in capitals"
        return self.FULL_LOWER, "known name words in lower case"

    def _inverted(self, text: str, words: list[_Word], i: int) -> tuple[int, int, float, str, int] | None:
        """'Balogun, Ngozi': a known surname, a comma, a known given name, both capitalised."""
        if i + 1 >= len(words) or text[words[i].end : words[i + 1].start] != ", ":
            return None
        last, first = words[i], words[i + 1]
        names = (last.lower in self.surnames or self._unknown(last)) and (
            first.lower in self.given or self._unknown(first)
        )
        shaped = last.case == first.case == "cap" and names
        if shaped and (self._clear_name(last) or self._clear_name(first)):
            return last.start, self._end(first), self.INVERTED, "surname, given name", i + 2
        return None

    def _result(self, start: int, end: int, score: float, explanation: str) -> RecognizerResult:
        return finding(self, self.ENTITY, start, end, score, explanation)
