"""Word classes as tiny static vectors: what a small model cannot learn from a few thousand sentences.

Without pretrained vectors, an unfamiliar capitalised word ("Cheque ...") at a sentence start looks like a
name. So every word the corpus builder knows gets a multi-hot vector of classes: ordinary English word,
given name, surname, place, country, nationality or group, calendar word, courtesy title. The vectors are
saved inside the model (`vocab/vectors`); unknown words get zeros, so names that are in no list are still
found from their context and spelling.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from recognizers.ner import lexicon
from recognizers.ner.grammar import dictionary_words
from recognizers.ner.names import given_names_and_surnames, provider_values, tokens

if TYPE_CHECKING:
    from spacy.language import Language

CLASSES: tuple[str, ...] = ("word", "given_name", "surname", "place", "country", "group", "calendar", "title")
VECTORS_NAME = "deid_word_classes"
_CALENDAR: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed", "thu", "thur",
    "thurs", "fri", "sat", "sun", "am", "pm",
)  # fmt: skip


@functools.cache
def word_classes() -> dict[str, frozenset[int]]:
    """Lower-cased word -> the indexes (into CLASSES) of every class it belongs to."""
    given, surnames = given_names_and_surnames()
    places: set[str] = set()
    for locale in lexicon.LOCALES:
        places |= provider_values(locale, "cities", "city_names", "states", "provinces", "regions")
    members: dict[int, set[str]] = {
        0: set(dictionary_words()),
        1: set(given),
        2: set(surnames),
        3: tokens(places) | tokens(lexicon.REAL_CITIES),
        4: tokens(lexicon.COUNTRIES) | tokens(provider_values("en_US", "countries")),
        5: tokens((*lexicon.NATIONALITIES, *lexicon.NATIONALITY_NOUNS, *lexicon.RELIGIONS, *lexicon.POLITICAL_GROUPS)),
        6: set(_CALENDAR),
        7: tokens(tuple(t for titles in lexicon.TITLES.values() for t in titles)),
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
