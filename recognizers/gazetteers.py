"""Word lists for name detection, built offline from every Faker locale (Faker is a run-time dependency).

`given_names()` and `surnames()` are lower-cased single words in Latin script, taken from the person
providers of all of Faker's locales (`faker.config.AVAILABLE_LOCALES`, including the romanized lists of
ja_JP, zh_CN, …), not from seven EU locales. `english_words()` is the SCOWL word list the NER corpus
uses, minus every word that is also a name: what a capitalised word at a sentence start usually is.

These are general knowledge of names, like a pretrained model's, and contain names that are also titles
("Barry", "Karen"): deciding that a column of such values is a show is the field classifier's job, from
structure. Built once per process (about a second), deterministic (sorted, no set order reaches a draw).
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

from faker import Faker
from faker.config import AVAILABLE_LOCALES

WORDS_FILE = Path(__file__).parent / "ner" / "data" / "english_words.txt"
_GIVEN_ATTRIBUTES = (
    "first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
    "first_romanized_names", "first_names_male_romanized", "first_names_female_romanized",
)  # fmt: skip
_SURNAME_ATTRIBUTES = (
    "last_names", "last_names_male", "last_names_female", "last_names_nonbinary", "last_romanized_names",
    "last_names_romanized",
)  # fmt: skip
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ][A-Za-zÀ-ɏ'\u2019\-]*[A-Za-zÀ-ɏ]")
DEPRECATED_LOCALES = frozenset({"fr_QC"})


def _attribute_values(provider: object, attributes: tuple[str, ...]) -> list[str]:
    values: list[str] = []
    for attribute in attributes:
        found = getattr(provider, attribute, None)
        if isinstance(found, dict | list | tuple):
            values += [str(v) for v in found]
    return values


_PLACE_ATTRIBUTES = ("cities", "city_names", "countries", "states", "provinces", "regions", "departments",
                     "land", "countries_names")  # fmt: skip


@functools.cache
def place_words() -> frozenset[str]:
    """Lower-cased words of the town, region and country names of every Faker locale (Latin script)."""
    words: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for locale in sorted(set(AVAILABLE_LOCALES) - DEPRECATED_LOCALES):
            for provider in Faker(locale).get_providers():
                for text in _attribute_values(provider, _PLACE_ATTRIBUTES):
                    words |= {w.lower() for w in _LATIN_WORD.findall(text)}
    return frozenset(words)


_STREET_ATTRIBUTES = ("street_suffixes", "street_suffixes_short", "street_suffixes_long", "street_prefixes",
                      "street_prefixes_short", "street_prefixes_long", "street_prefixes_masculine",
                      "street_prefixes_feminine", "street_suffixes_masc", "street_suffixes_fem", "street_suffixes_neu",
                      "sub_street_prefixes")  # fmt: skip


@functools.cache
def street_words() -> frozenset[str]:
    """Lower-cased street-type words of every Faker locale ("road", "mills", "vicolo", "strada", "rue", …)."""
    words: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for locale in sorted(set(AVAILABLE_LOCALES) - DEPRECATED_LOCALES):
            for provider in Faker(locale).get_providers():
                for text in _attribute_values(provider, _STREET_ATTRIBUTES):
                    words |= {w.lower() for w in _LATIN_WORD.findall(text) if len(w) > 2}
    # Some locales list whole street names ("Jalan Abdul Rahman"): a word that is also a name counts only
    # when it is an ordinary English word too ("bridge", "mills", "green").
    names = given_names() | surnames()
    return frozenset(w for w in words if w not in names or w in dictionary_words())


@functools.cache
def _person_words() -> tuple[frozenset[str], frozenset[str]]:
    given: set[str] = set()
    surnames: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Faker warns about deprecated locales it still lists
        for locale in sorted(set(AVAILABLE_LOCALES) - DEPRECATED_LOCALES):
            for provider in Faker(locale).get_providers():
                for text in _attribute_values(provider, _GIVEN_ATTRIBUTES):
                    given |= {w.lower() for w in _LATIN_WORD.findall(text)}
                for text in _attribute_values(provider, _SURNAME_ATTRIBUTES):
                    surnames |= {w.lower() for w in _LATIN_WORD.findall(text)}
    return frozenset(given), frozenset(surnames)


def given_names() -> frozenset[str]:
    """Lower-cased given names of every Faker locale (Latin script)."""
    return _person_words()[0]


def surnames() -> frozenset[str]:
    """Lower-cased family-name words of every Faker locale (Latin script)."""
    return _person_words()[1]


@functools.cache
def dictionary_words() -> frozenset[str]:
    """Lower-case English words (SCOWL); a word listed there is also an ordinary word."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
