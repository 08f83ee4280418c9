"""PHONE_NUMBER in E.164/international form and in the national formats of EU countries.

Replaces Presidio's PhoneRecognizer (same entity name, so policies and the memo ground truth keep one
name for one thing): Presidio validates against 8 regions (US, GB, DE, FR, IL, IN, CA, BR) by running
one phonenumbers matcher per region over the whole text. Here one matcher pass over each run of
phone-like characters finds candidates, then each candidate is judged once:

- international (`+49 …`, `0049 …`): valid for its country -> 0.6; possible length only -> 0.4
  (the `+`/`00` prefix is itself strong evidence; Faker's fictional numbers land here);
- national: valid in one of the EU (+ CH, NO, GB, US) regions -> 0.45 when written like a phone
  number (a trunk `0`, parentheses, or grouped digits), 0.3 for a bare digit run (order numbers,
  ids and amounts are bare digit runs too). Phone context words raise both.

Dates and times (`23-08-2020`, `12.10.2020`, `2020-08-23`) are never phone numbers.
"""

from __future__ import annotations

import re
from functools import cache
from typing import ClassVar

import phonenumbers
from phonenumbers import Leniency, NumberParseException
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from recognizers.custom.base import finding

# National-format regions, most likely first (the first valid one names the region in the explanation).
EU_REGIONS = (
    "DE", "FR", "GB", "IT", "ES", "NL", "PL", "BE", "AT", "PT", "SE", "DK", "FI", "IE", "CZ", "GR", "HU",
    "RO", "SK", "SI", "HR", "BG", "LT", "LV", "EE", "LU", "MT", "CY", "CH", "NO", "US",
)  # fmt: skip
# Where else deid's users' customers live and call from; tried after the EU for national numbers.
WORLD_REGIONS = (
    "CA", "AU", "NZ", "IN", "PK", "BD", "JP", "KR", "CN", "SG", "PH", "BR", "MX", "AR", "ZA", "NG", "KE",
    "GH", "EG", "MA", "TR", "IL", "AE", "SA", "UA",
)  # fmt: skip
# North American numbers as people write them, valid or not (fictional 555 numbers, made-up exchanges):
# (415) 555-0132, 415-555-0132, 415.555.0132, 1-415-555-0132. Three-three-four digits is no date shape.
_NANP_SHAPE = re.compile(r"^(?:\+?1[-. ])?(?:\(\d{3}\) ?|\d{3}[-.])\d{3}[-.]\d{4}$")
_DATE_LIKE = re.compile(r"^\s*(\d{1,4})([-./])\d{1,2}\2\d{1,4}\s*$|^\s*\d{1,2}:\d{2}(:\d{2})?\s*$")
_PHONE_SHAPED = re.compile(r"^\s*(\(|0)|\d[\s\-./]\d|\)")
_MIN_DIGITS = 6
_PHONE_RUN = re.compile(r"[+(]*\d[\d\s().\-/+]*\d\)?")
# Short or variable-length national numbers without a trunk prefix look like any other digit run
# (ids, amounts, order numbers); these countries' numbers are found in their international form.
INTERNATIONAL_ONLY = frozenset({"LU", "DK", "EE", "LV", "MT", "CY", "NO"})


@cache
def _trunk_prefix(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata else ""


def _plausible_national(digits: str, region: str) -> bool:
    """Written the way people of `region` write their numbers at home.

    phonenumbers accepts a national number without its trunk prefix (12345678 is "valid" in BE);
    people write the 0. Regions without a trunk prefix (ES, PL, PT, IT mobile, …) have numbers of
    9+ digits; the others (DK, EE, LU, …) are left to their international form.
    """
    if region in INTERNATIONAL_ONLY:
        return False
    prefix = _trunk_prefix(region)
    if prefix.startswith("0"):
        return digits.startswith(prefix)
    return len(digits) >= 9


def _glued(text: str, start: int, end: int) -> bool:
    """Digits glued to something else: letters or digits (DE136695976), a clock (19:20:03.679915+0000)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end : end + 2]
    return (
        before.isalnum()
        or (before == ":" and start > 1 and text[start - 2].isdigit())
        or (after[:1].isalnum())
        or (after[:1] in {"+", ":"} and after[1:2].isdigit())
    )


class EuPhoneRecognizer(LocalRecognizer):
    """International and EU national phone numbers (entity PHONE_NUMBER)."""

    ENTITY = "PHONE_NUMBER"
    NEEDS_DIGIT = True
    """`analyze` only looks at runs holding several digits (`recognizers.prefilter` skips text without one)."""
    INTERNATIONAL_VALID = 0.6
    INTERNATIONAL_POSSIBLE = 0.5
    NATIONAL_FORMATTED = 0.45
    NATIONAL_BARE = 0.3
    SHAPED = 0.5
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "phone", "telephone", "tel", "mobile", "cell", "call", "number", "fax", "whatsapp", "reach",
        "contact", "ring", "sms", "telefon", "handy", "rufnummer", "téléphone", "portable", "numéro",
        "telefono", "cellulare", "teléfono", "móvil", "telefoon", "mobiel", "komórka", "numer",
    )  # fmt: skip

    def __init__(self, supported_language: str = "en", regions: tuple[str, ...] = EU_REGIONS + WORLD_REGIONS) -> None:
        self.regions = regions
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            context=list(self.CONTEXT),
            name=type(self).__name__,
        )

    def load(self) -> None:
        """Nothing to load: phonenumbers' metadata is bundled."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        # phonenumbers' matcher scans slowly (most of the time on a memo), so it only sees the runs of
        # phone-like characters holding enough digits. Its candidate scan is region-independent; with
        # POSSIBLE leniency and a permissive default region it yields every phone-like digit group,
        # which `_judge` then validates.
        for run in _PHONE_RUN.finditer(text):
            if sum(char.isdigit() for char in run.group()) < _MIN_DIGITS:
                continue
            for match in phonenumbers.PhoneNumberMatcher(run.group(), self.regions[0], leniency=Leniency.POSSIBLE):
                start, end = run.start() + match.start, run.start() + match.end
                raw = match.raw_string
                if raw.startswith("(") and raw.count("(") > raw.count(")"):
                    start, raw = start + 1, raw[1:]  # "(+44 20 7946 0321)": the bracket is punctuation
                if raw.endswith(")") and raw.count(")") > raw.count("("):
                    end, raw = end - 1, raw[:-1]
                if _glued(text, start, end):
                    continue
                judged = self._judge(raw)
                if judged is not None:
                    results.append(self._result(start, end, *judged))
        return results

    def _judge(self, raw: str) -> tuple[float, str] | None:
        if _DATE_LIKE.match(raw):
            return None
        written = raw.strip()
        if written.startswith(("+", "00")):
            return self._judge_international(written)
        digits = "".join(char for char in written if char.isdigit())
        for region in self.regions:
            if not _plausible_national(digits, region):
                continue
            try:
                national = phonenumbers.parse(written, region)
            except NumberParseException:
                continue
            if phonenumbers.is_valid_number_for_region(national, region):
                if _PHONE_SHAPED.search(written):
                    return self.NATIONAL_FORMATTED, f"valid {region} national number"
                return self.NATIONAL_BARE, f"bare digits valid as a {region} national number"
        if _NANP_SHAPE.match(written):
            return self.SHAPED, "written as a North American number"
        return None

    def _judge_international(self, written: str) -> tuple[float, str] | None:
        try:
            number = phonenumbers.parse("+" + written.removeprefix("+").removeprefix("00"), None)
        except NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            region = phonenumbers.region_code_for_number(number)
            return self.INTERNATIONAL_VALID, f"valid international number ({region})"
        if phonenumbers.is_possible_number(number):
            return self.INTERNATIONAL_POSSIBLE, f"possible international number (+{number.country_code})"
        return None

    def _result(self, start: int, end: int, score: float, explanation: str) -> RecognizerResult:
        return finding(self, self.ENTITY, start, end, score, explanation)
