"""Numbers with a Luhn check digit: 15-digit card numbers (CUSTOM_CREDIT_CARD) and IMEIs."""

from __future__ import annotations

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
