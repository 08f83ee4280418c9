"""Word classes as tiny static vectors: what a small model cannot learn from a few thousand sentences.

Without pretrained vectors, an unfamiliar capitalised word ("Cheque ...") at a sentence start looks like a
name. So every word the corpus builder knows gets a multi-hot vector of classes: ordinary English word,
given name, surname, place, country, nationality or group, calendar word, courtesy title. The vectors are
saved inside the model (`vocab/vectors`); unknown words get zeros, so names that are in no list are still
found from their context and spelling.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from faker import Faker

from recognizers import gazetteers
from recognizers.ner import lexicon

if TYPE_CHECKING:
    from spacy.language import Language

CLASSES: tuple[str, ...] = ("word", "given_name", "surname", "place", "country", "group", "calendar", "title")
VECTORS_NAME = "deid_word_classes"
_TOKEN = re.compile(r"[^\W\d_]{2,}")
_CALENDAR: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "thu", "thur",
    "thurs", "fri", "sat", "sun", "am", "pm",
)  # fmt: skip


def _provider_values(locale: str, *attributes: str) -> set[str]:
    values: set[str] = set()
    for provider in Faker(locale).get_providers():
        for attribute in attributes:
            found = getattr(provider, attribute, None)
            if isinstance(found, dict | list | tuple):
                values |= {str(v) for v in found}
    return values


def _tokens(texts: set[str] | tuple[str, ...]) -> set[str]:
    return {t.lower() for text in texts for t in _TOKEN.findall(text)}


def _given_names_and_surnames() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and surnames of every Faker locale (`recognizers.gazetteers`), not only the corpus's."""
    return gazetteers.given_names(), gazetteers.surnames()


@functools.cache
def name_words() -> frozenset[str]:
    """Every word of a given name or surname of the corpus locales, plus the name-like words ("Grace"),
    lower case: the corpus never uses these as "ordinary words"."""
    given, surnames = _given_names_and_surnames()
    return given | surnames | {w.lower() for w in lexicon.NAME_LIKE_WORDS}


@functools.cache
def word_classes() -> dict[str, frozenset[int]]:
    """Lower-cased word -> the indexes (into CLASSES) of every class it belongs to."""
    from recognizers.ner.grammar import dictionary_words

    given, surnames = _given_names_and_surnames()
    places: set[str] = set()
    for locale in lexicon.LOCALES:
        places |= _provider_values(locale, "cities", "city_names", "states", "provinces", "regions")
    members: dict[int, set[str]] = {
        0: set(dictionary_words()),
        1: set(given),
        2: set(surnames),
        3: _tokens(places) | _tokens(lexicon.REAL_CITIES),
        4: _tokens(lexicon.COUNTRIES) | _tokens(_provider_values("en_US", "countries")),
        5: _tokens((*lexicon.NATIONALITIES, *lexicon.NATIONALITY_NOUNS, *lexicon.RELIGIONS, *lexicon.POLITICAL_GROUPS)),
        6: set(_CALENDAR),
        7: _tokens(tuple(t for titles in lexicon.TITLES.values() for t in titles)),
    }
    classes: dict[str, set[int]] = {}
    for index, words in members.items():
        for word in words:
            classes.setdefault(word, set()).add(index)
    return {word: frozenset(indexes) for word, indexes in sorted(classes.items())}


def add_word_class_vectors(nlp: Language) -> int:
    """Give `nlp.vocab` the word-class vectors (before the model is initialised); returns the row count."""
    import numpy
    from spacy.strings import get_string_id
    from spacy.vectors import Vectors

    rows: dict[int, frozenset[int]] = {}
    for word, indexes in word_classes().items():
        # spaCy saves no key attribute for plain vectors (they are always looked up by the exact text), so
        # each word is keyed as written in lower case and capitalised, and names also in upper case.
        forms = {word, word.capitalize(), *([word.upper()] if indexes & {1, 2} else [])}
        for form in sorted(forms):
            rows.setdefault(get_string_id(form), indexes)
    data = numpy.zeros((len(rows), len(CLASSES)), dtype="float32")
    for row, indexes in enumerate(rows.values()):
        data[row, sorted(indexes)] = 1.0
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=data, keys=list(rows), name=VECTORS_NAME)
    return len(rows)
