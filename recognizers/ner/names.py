"""Given names and surnames (Faker's lists of every locale, `recognizers.gazetteers`), as lower-case word sets:
shared by the gazetteer's word classes and the corpus grammar (which keeps names out of its "ordinary word"
pools)."""

from __future__ import annotations

import functools
import re

from faker import Faker

from recognizers import gazetteers
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


def given_names_and_surnames() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and surnames of every Faker locale (`recognizers.gazetteers`), not only the corpus's."""
    return gazetteers.given_names(), gazetteers.surnames()


@functools.cache
def name_words() -> frozenset[str]:
    """Every word of a given name or surname of any Faker locale, plus the name-like words ("Grace"),
    lower case: the corpus never uses these as "ordinary words"."""
    given, surnames = given_names_and_surnames()
    return given | surnames | {w.lower() for w in lexicon.NAME_LIKE_WORDS}
