"""Given names and surnames of the corpus locales (Faker's lists), as lower-case word sets: shared by the
gazetteer's word classes and the corpus grammar (which keeps names out of its "ordinary word" pools)."""

from __future__ import annotations

import functools
import re

from faker import Faker

from recognizers.ner import lexicon

_TOKEN = re.compile(r"[^\W\d_]{2,}")


def provider_values(locale: str, *attributes: str) -> set[str]:
    values: set[str] = set()
    for provider in Faker(locale).get_providers():
        for attribute in attributes:
            found = getattr(provider, attribute, None)
            if isinstance(found, dict | list | tuple):
                values |= {str(v) for v in found}
    return values


def tokens(texts: set[str] | tuple[str, ...]) -> set[str]:
    return {t.lower() for text in texts for t in _TOKEN.findall(text)}


@functools.cache
def given_names_and_surnames() -> tuple[frozenset[str], frozenset[str]]:
    given: set[str] = set()
    surnames: set[str] = set()
    for locale in lexicon.LOCALES:
        given |= provider_values(locale, "first_names", "first_names_male", "first_names_female")
        surnames |= provider_values(locale, "last_names", "last_names_male", "last_names_female")
    return frozenset(tokens(given)), frozenset(tokens(surnames))


@functools.cache
def name_words() -> frozenset[str]:
    """Every word of a given name or surname of the corpus locales, plus the name-like words ("Grace"),
    lower case: the corpus never uses these as "ordinary words"."""
    given, surnames = given_names_and_surnames()
    return given | surnames | {w.lower() for w in lexicon.NAME_LIKE_WORDS}
