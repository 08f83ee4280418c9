"""EU national identifiers with check digits: German Steuer-IdNr, French NIR, Dutch BSN, Polish PESEL.

Presidio ships German and Polish ones for the `de`/`pl` languages only (deid analyses in `en`, and its
PESEL pattern has no word boundaries, so it fires inside longer numbers). Checks come from python-stdnum.
"""

from __future__ import annotations

from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.nl import bsn
from stdnum.pl import pesel

from recognizers.custom.base import CheckedPatternRecognizer


class SteuerIdRecognizer(CheckedPatternRecognizer):
    """Steuerliche Identifikationsnummer: 11 digits, first not 0, digit-repetition rule, ISO 7064 mod 11,10."""

    ENTITY = "DE_TAX_ID"
    PATTERNS = (
        ("Steuer-IdNr (plain)", r"\b[1-9]\d{10}\b", 0.3),
        ("Steuer-IdNr (grouped 2-3-3-3)", r"\b[1-9]\d \d{3} \d{3} \d{3}\b", 0.4),
    )
    CONTEXT = (
        "steuer",
        "steuerid",
        "steuer-id",
        "idnr",
        "identifikationsnummer",
        "steueridentifikationsnummer",
        "tax",
        "tin",
    )

    def is_valid(self, compact: str) -> bool:
        return idnr.is_valid(compact)


class NirRecognizer(CheckedPatternRecognizer):
    """INSEE/NIR (numéro de sécurité sociale): sex 1/2 (7/8 provisional), 12 more (Corsica 2A/2B), mod 97 key."""

    ENTITY = "FR_NIR"
    PATTERNS = (
        ("NIR (plain)", r"\b[1278]\d{4}(?:\d{2}|2[AB])\d{8}\b", 0.7),
        ("NIR (grouped)", r"\b[1278] \d{2} \d{2} (?:\d{2}|2[AB]) \d{3} \d{3} \d{2}\b", 0.75),
    )
    CONTEXT = ("nir", "insee", "sécurité sociale", "securite sociale", "sécu", "secu", "vitale", "social security")

    def is_valid(self, compact: str) -> bool:
        return nir.is_valid(compact)


class BsnRecognizer(CheckedPatternRecognizer):
    """Burgerservicenummer: 9 digits passing the 11-proof (1 in 11 random numbers do, hence a low score)."""

    ENTITY = "NL_BSN"
    PATTERNS = (
        ("BSN (plain)", r"\b\d{9}\b", 0.3),
        ("BSN (dotted 4.2.3)", r"\b\d{4}\.\d{2}\.\d{3}\b", 0.4),
    )
    CONTEXT = ("bsn", "burgerservicenummer", "sofinummer", "sofi", "citizen service number")

    def is_valid(self, compact: str) -> bool:
        return compact != "000000000" and bsn.is_valid(compact)


class PeselRecognizer(CheckedPatternRecognizer):
    """PESEL: 11 digits holding a valid birth date (century in the month) and a weighted check digit."""

    ENTITY = "PL_PESEL"
    PATTERNS = (("PESEL", r"\b\d{4}[0-3]\d{6}\b", 0.4),)
    CONTEXT = ("pesel", "numer pesel", "national id", "identity number")

    def is_valid(self, compact: str) -> bool:
        return pesel.is_valid(compact)
