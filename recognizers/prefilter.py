"""Which recognizers can match a text at all: a pattern that needs a digit or an '@' is not run on a text without one.

Derived, not declared: each regex of a pattern recognizer is parsed (Python's own regex parser, which reads
the `regex` module's default syntax) and walked for the characters every match must contain: a digit
(`\\d`, `[0-9]`, a literal digit) or an ASCII punctuation mark (`@`, `:`, a literal `-`). Letters are
never used (case folding makes them many characters). A sequence needs what any of its parts needs; an
alternation needs one of the things each branch needs; a repeat needs what its body needs when it must
occur at least once; a positive lookaround needs its content in the text around the match. Anything the
walk does not understand needs nothing, and a pattern the parser cannot read makes its recognizer always
run: the filter can only skip work that could not have found anything.

A non-pattern recognizer may declare `NEEDS_DIGIT = True` when it provably finds nothing in a text without
a digit (deid's phone recognizer only looks at runs holding several digits).

"A digit" is wide on purpose: any character Python calls numeric, or one its Unicode tables do not know
(the `regex` module may know a newer Unicode), so `\\d` matching an Arabic-Indic digit is still covered.
`tests/unit/test_recognizers_fast.py` checks that the filter never changes the analyzer's results.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import EntityRecognizer, PatternRecognizer
from presidio_analyzer.predefined_recognizers import IbanRecognizer

try:  # Python 3.11+
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_ASCII_DIGITS = frozenset("0123456789")
_PUNCTUATION = frozenset("!\"#$%&'()*+,./:;<=>?@[\\]^_`{|}~-")
_PATTERN_ANALYZERS = (PatternRecognizer.analyze, IbanRecognizer.analyze)


@dataclass(frozen=True)
class Need:
    """A match contains a digit (when `digit`) or one of `chars` (ASCII punctuation)."""

    digit: bool = False
    chars: frozenset[str] = frozenset()

    def __or__(self, other: Need) -> Need:
        return Need(self.digit or other.digit, self.chars | other.chars)


Needs = list[Need]
"""All of these hold for a match; an empty list: nothing is known."""


def has_digit(chars: frozenset[str]) -> bool:
    if not _ASCII_DIGITS.isdisjoint(chars):
        return True
    return any(c > "\x7f" and (c.isnumeric() or unicodedata.category(c) == "Cn") for c in chars)


def can_match(recognizer: EntityRecognizer, chars: frozenset[str]) -> bool:
    """False only when `recognizer` cannot find anything in a text made of `chars`."""
    return can_match_signature(recognizer, signature(chars))


Signature = tuple[bool, frozenset[str]]
"""What the needs look at in a text: whether it has a digit, and which ASCII punctuation marks it has."""


def signature(chars: frozenset[str]) -> Signature:
    return has_digit(chars), chars & _PUNCTUATION


def can_match_signature(recognizer: EntityRecognizer, text: Signature) -> bool:
    """`can_match` for a text's signature, remembered per recognizer (few signatures occur)."""
    known: dict[Signature, bool] | None = recognizer.__dict__.get("_deid_can_match")
    if known is None:
        known = recognizer.__dict__["_deid_can_match"] = {}
    answer = known.get(text)
    if answer is None:
        alternatives: list[Needs] | None = recognizer.__dict__.get("_deid_needs")
        if alternatives is None:
            alternatives = recognizer.__dict__["_deid_needs"] = recognizer_needs(recognizer)
        digit, marks = text
        answer = any(
            all((need.digit and digit) or not need.chars.isdisjoint(marks) for need in needs) for needs in alternatives
        )
        if len(known) < 4096:
            known[text] = answer
    return answer


def recognizer_needs(recognizer: EntityRecognizer) -> list[Needs]:
    """One list of needs per way the recognizer can find something ([[]]: it may always find something)."""
    if getattr(recognizer, "NEEDS_DIGIT", False) is True:
        return [[Need(digit=True)]]
    if not isinstance(recognizer, PatternRecognizer) or type(recognizer).analyze not in _PATTERN_ANALYZERS:
        return [[]]
    if not recognizer.patterns:
        return []  # Presidio runs nothing: finds nothing
    return [pattern_needs(pattern.regex, recognizer.global_regex_flags) for pattern in recognizer.patterns]


# The `regex` module's fuzzy matching (`(?:abc){e<=1}`) reads as literal braces to Python's parser.
_FUZZY = re.compile(r"\{\s*[edis]\s*[<=>}]|\{\s*\d+\s*<=?\s*[edis]")


def pattern_needs(regex: str, flags: int = 0) -> Needs:
    if _FUZZY.search(regex):
        return []
    try:
        parsed = sre_parse.parse(regex, flags)
    except (re.error, ValueError, TypeError, RecursionError, OverflowError):
        return []
    return _sequence(list(parsed))


def _sequence(items: list[tuple[Any, Any]]) -> Needs:
    needs: Needs = []
    for op, arg in items:
        needs += _item(op, arg)
    return needs


def _item(op: Any, arg: Any) -> Needs:
    if op is sre.LITERAL:
        return _literal(arg)
    if op is sre.IN:
        return _in(arg)
    if op is sre.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)):
        low, _high, body = arg
        return _sequence(list(body)) if low >= 1 else []
    if op is sre.BRANCH:
        return _branch([_sequence(list(branch)) for branch in arg[1]])
    if op is sre.ASSERT:
        return _sequence(list(arg[1]))
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(list(arg))
    return []


def _literal(code: int) -> Needs:
    char = chr(code)
    if char in _ASCII_DIGITS:
        return [Need(digit=True)]
    if char in _PUNCTUATION:
        return [Need(chars=frozenset(char))]
    return []


def _in(items: list[tuple[Any, Any]]) -> Needs:
    """A character class: a need only if every member is a digit or ASCII punctuation."""
    need = Need()
    for op, arg in items:
        if op is sre.NEGATE:
            return []
        if op is sre.CATEGORY and arg is sre.CATEGORY_DIGIT:
            need = need | Need(digit=True)
        elif op is sre.LITERAL and (chr(arg) in _ASCII_DIGITS or chr(arg) in _PUNCTUATION):
            need = need | (Need(digit=True) if chr(arg) in _ASCII_DIGITS else Need(chars=frozenset(chr(arg))))
        elif op is sre.RANGE and all(chr(c) in _ASCII_DIGITS for c in arg):
            need = need | Need(digit=True)
        elif op is sre.RANGE and all(chr(c) in _PUNCTUATION for c in range(arg[0], arg[1] + 1)):
            need = need | Need(chars=frozenset(chr(c) for c in range(arg[0], arg[1] + 1)))
        else:
            return []
    return [need] if need.digit or need.chars else []


def _branch(branches: list[Needs]) -> Needs:
    """Each branch needs something: the alternation needs one of them (one need per branch, joined)."""
    if not branches or any(not needs for needs in branches):
        return []
    joined = Need()
    for needs in branches:
        # the most selective of the branch's needs: the fewest punctuation marks, a digit last
        joined = joined | min(needs, key=lambda need: (need.digit, len(need.chars)))
    return [joined]
