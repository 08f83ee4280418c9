"""Numbers with a Luhn check digit: 15-digit card numbers (CUSTOM_CREDIT_CARD) and IMEIs."""

from __future__ import annotations

import re

from stdnum import luhn

from recognizers.custom.base import CheckedPatternRecognizer

# The first two IMEI digits are the Reporting Body Identifier of the body that allocated the type code.
IMEI_REPORTING_BODIES = frozenset(
    {"00", "01", "10", "30", "33", "35", "44", "45", "49", "50", "51", "52", "53", "54", "86", "91", "98", "99"}
)


class CustomCreditCardRecognizer(CheckedPatternRecognizer):
    """15-digit card numbers (American Express IINs 34/37), Luhn-checked, plain or grouped 4-6-5.

    Random 15-digit numbers do not match: 1 in 50 has the prefix, 1 in 10 of those passes Luhn, so a
    match is conclusive (1.0). Presidio's CREDIT_CARD reports the same span with the same score; both
    are kept: CUSTOM_CREDIT_CARD is the 15-digit card signal the original demo's `card_number` relied on.
    """

    ENTITY = "CUSTOM_CREDIT_CARD"
    CONCLUSIVE = True
    PATTERNS = (
        ("15-digit card (plain)", r"\b3[47]\d{13}\b", 0.5),
        ("15-digit card (4-6-5)", r"\b3[47]\d{2}[ -]\d{6}[ -]\d{5}\b", 0.5),
    )
    CONTEXT = ("card", "credit", "amex", "american express", "payment", "paid", "kreditkarte", "carte", "tarjeta")

    def is_valid(self, compact: str) -> bool:
        return len(compact) == 15 and luhn.is_valid(compact)


class ImeiRecognizer(CheckedPatternRecognizer):
    """IMEI: 15 digits (plain or AA-BBBBBB-CCCCCC-D), a known reporting-body prefix, Luhn check digit.

    A bare 15-digit number proves little (1 in 10 pass Luhn), so it scores low until "IMEI" or a
    device word is near; the grouped form is itself a cue.
    """

    ENTITY = "IMEI"
    PATTERNS = (
        ("IMEI (plain)", r"\b\d{15}\b", 0.3),
        ("IMEI (grouped 2-6-6-1)", r"\b\d{2}[ -]\d{6}[ -]\d{6}[ -]\d\b", 0.5),
    )
    CONTEXT = ("imei", "device", "handset", "phone", "mobile", "serial", "sim")

    def is_valid(self, compact: str) -> bool:
        return len(compact) == 15 and compact[:2] in IMEI_REPORTING_BODIES and luhn.is_valid(compact)


# Issuer identification numbers of the card schemes in use (ISO/IEC 7812 ranges published by the schemes):
# Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, Discover 6011/644-649/65, JCB 3528-3589, Diners
# 36/38/300-305, UnionPay 62, Maestro 50/56-58/6759/6761-6763.
_IIN = re.compile(r"^(?:4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|6011|64[4-9]|65|35(?:2[89]|[3-8]\d)|"
                  r"3(?:0[0-5]|[68])|62|5[06-8]|67(?:59|6[1-3]))")  # fmt: skip


class PaymentCardRecognizer(CheckedPatternRecognizer):
    """CREDIT_CARD: 13-19 digits, plain or in groups of 4 (Amex 4-6-5) split by spaces or dashes, with a
    known scheme prefix and a valid Luhn digit. Replaces Presidio's, whose pattern misses Mastercard's
    2-series (2221-2720). A random number passes both checks about 1 in 40 times, and the grouping is a
    cue of its own, so a match is conclusive (1.0, as Presidio's)."""

    ENTITY = "CREDIT_CARD"
    CONCLUSIVE = True
    PATTERNS = (
        ("card (plain)", r"\b\d{13,19}\b", 0.5),
        ("card (4-4-4-4)", r"\b\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}\b", 0.5),
        ("card (4-6-5 / 4-6-4)", r"\b3\d{3}([ -])\d{6}\1\d{4,5}\b", 0.5),
    )
    CONTEXT = ("credit", "card", "visa", "mastercard", "amex", "discover", "jcb", "diners", "maestro", "cc",
               "payment", "paid", "kreditkarte", "carte", "tarjeta")  # fmt: skip

    def is_valid(self, compact: str) -> bool:
        return 13 <= len(compact) <= 19 and compact.isdigit() and bool(_IIN.match(compact)) and luhn.is_valid(compact)
