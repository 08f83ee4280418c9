"""Parse and format dates in a domain field's strftime format, with a fast path for plain formats.

Formats made only of %d %m %Y %H %M %S and literal characters (e.g. `%d-%m-%Y`) are parsed with a
regular expression and formatted with str.format, several times faster than strptime/strftime; any
input the fast path does not take goes through strptime, so what is accepted does not change.
"""

from __future__ import annotations

import re
from datetime import datetime

_FAST = {
    "%d": ("day", 2),
    "%m": ("month", 2),
    "%Y": ("year", 4),
    "%H": ("hour", 2),
    "%M": ("minute", 2),
    "%S": ("second", 2),
}
_DIRECTIVE = re.compile(r"%.")
_DATE_ONLY = {"%d", "%m", "%Y", "%y", "%b", "%B", "%a", "%A", "%j", "%%"}


class DateCodec:
    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self._pattern: re.Pattern[str] | None = None
        self._template = ""
        self._fields: list[str] = []
        directives = _DIRECTIVE.findall(fmt)
        self.date_only = bool(directives) and set(directives) <= _DATE_ONLY
        """No time of day in the format: a value is one calendar day (shifts can work on day numbers)."""
        if directives and all(d in _FAST for d in directives) and len(set(directives)) == len(directives):
            pattern, template, position = "", "", 0
            for match in _DIRECTIVE.finditer(fmt):
                literal = fmt[position : match.start()]
                pattern += re.escape(literal)
                template += literal.replace("{", "{{").replace("}", "}}")
                name, width = _FAST[match.group()]
                pattern += rf"([0-9]{{{width}}})"  # ASCII digits, as strptime
                template += f"{{0.{name}:0{width}d}}"
                self._fields.append(name)
                position = match.end()
            literal = fmt[position:]
            self._pattern = re.compile(pattern + re.escape(literal) + r"\Z")
            self._template = template + literal.replace("{", "{{").replace("}", "}}")

    def parse(self, text: str) -> datetime:
        """ValueError (without the value in it) when `text` does not match the format."""
        if self._pattern is not None:
            match = self._pattern.match(text)
            if match is not None:
                parts = dict(zip(self._fields, map(int, match.groups()), strict=True))
                try:
                    return datetime(
                        parts.get("year", 1900),
                        parts.get("month", 1),
                        parts.get("day", 1),
                        parts.get("hour", 0),
                        parts.get("minute", 0),
                        parts.get("second", 0),
                    )
                except ValueError:
                    pass  # e.g. day 31 of a 30-day month: strptime decides below
        try:
            return datetime.strptime(text, self.format)
        except ValueError:
            pass  # strptime's message holds the value; raise a clean one outside this block
        raise ValueError(f"does not match the format {self.format!r}")

    def format_date(self, value: datetime) -> str:
        if self._pattern is not None and value.year >= 1000:
            return self._template.format(value)
        return value.strftime(self.format)
