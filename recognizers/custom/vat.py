"""EU VAT identification numbers (all member states plus XI), validated with each country's check.

Sole traders' VAT numbers identify people. Presidio has only the German and Italian ones, for their own
languages. Checks come from python-stdnum (`stdnum.eu.vat.is_valid`, local: never the VIES web service).
"""

from __future__ import annotations

from stdnum.eu import vat

from recognizers.custom.base import CheckedPatternRecognizer


def _digits(low: int, high: int | None = None) -> str:
    """`low`..`high` digits, a single space, dot or dash allowed between them (as printed on invoices)."""
    high = low if high is None else high
    return rf"\d(?:[ .\-]?\d){{{low - 1},{high - 1}}}"


# Country prefix -> body, after an optional space. Formats from the EU VIES documentation.
VAT_BODIES = {
    "AT": rf"U ?{_digits(8)}",
    "BE": rf"[01]?{_digits(9)}",
    "BG": _digits(9, 10),
    "CY": rf"{_digits(8)}[A-Z]",
    "CZ": _digits(8, 10),
    "DE": _digits(9),
    "DK": _digits(8),
    "EE": _digits(9),
    "EL": _digits(9),
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": _digits(8),
    "FR": rf"[0-9A-HJ-NP-Z]{{2}} ?{_digits(9)}",
    "HR": _digits(11),
    "HU": _digits(8),
    "IE": r"\d[A-Z0-9+*]\d{5}[A-W][A-IW]?",
    "IT": _digits(11),
    "LT": rf"(?:{_digits(12)}|{_digits(9)})",
    "LU": _digits(8),
    "LV": _digits(11),
    "MT": _digits(8),
    "NL": rf"{_digits(9)} ?B ?\d{{2}}",
    "PL": _digits(10),
    "PT": _digits(9),
    "RO": _digits(6, 10),
    "SE": _digits(12),
    "SI": _digits(8),
    "SK": _digits(10),
    "XI": rf"(?:{_digits(12)}|{_digits(9)})",
}
VAT_REGEX = r"\b(?:" + "|".join(f"{prefix} ?{body}" for prefix, body in VAT_BODIES.items()) + r")\b"


class EuVatRecognizer(CheckedPatternRecognizer):
    """A country prefix, the country's format and its check digit(s); 'VAT', 'TVA', 'USt', … raise the score."""

    ENTITY = "EU_VAT"
    PATTERNS = (("EU VAT number", VAT_REGEX, 0.7),)
    CONTEXT = (
        "vat",
        "tva",
        "ust",
        "mwst",
        "umsatzsteuer",
        "btw",
        "iva",
        "moms",
        "alv",
        "dph",
        "dic",
        "nip",
        "nif",
        "piva",
        "partita",
        "fpa",
        "áfa",
        "pvm",
        "pvn",
        "ddv",
        "tax",
    )

    def is_valid(self, compact: str) -> bool:
        return compact[:2] in VAT_BODIES and vat.is_valid(compact)
