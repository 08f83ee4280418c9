"""Pattern recognizers declared in YAML, in Presidio's recognizer format, checked before Presidio sees them.

Presidio's own loader prints to stdout and raises a bare KeyError/TypeError on a bad file; here every
problem is a ConfigError naming the file and the key path (`recognizers[2].patterns[0].regex`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import regex
import yaml
from presidio_analyzer import Pattern, PatternRecognizer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deid.errors import ConfigError
from recognizers.engine import LANGUAGE

PACKAGE_YAML_DIR = Path(__file__).parent / "yaml"
_ENTITY = r"^[A-Z][A-Z0-9_]*$"


class PatternSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value)
        except regex.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return value


class RecognizerSpec(BaseModel):
    """One entry of `recognizers:`; the keys Presidio's PatternRecognizer.from_dict understands."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    supported_entity: str = Field(pattern=_ENTITY)
    supported_language: str = LANGUAGE
    patterns: list[PatternSpec] = Field(default_factory=list)
    deny_list: list[str] = Field(default_factory=list)
    deny_list_score: float = Field(1.0, ge=0.0, le=1.0)
    context: list[str] = Field(default_factory=list)

    @field_validator("supported_language")
    @classmethod
    def _analysed_language(cls, value: str) -> str:
        if value != LANGUAGE:
            raise ValueError(f"deid analyses text as {LANGUAGE!r}; a {value!r} recognizer would never run")
        return value

    @model_validator(mode="after")
    def _finds_something(self) -> RecognizerSpec:
        if not self.patterns and not self.deny_list:
            raise ValueError("needs patterns or a deny_list")
        return self

    def build(self) -> PatternRecognizer:
        return PatternRecognizer(
            supported_entity=self.supported_entity,
            name=self.name,
            supported_language=self.supported_language,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.patterns] or None,
            deny_list=self.deny_list or None,
            deny_list_score=self.deny_list_score,
            context=self.context or None,
        )


class RecognizerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recognizers: list[RecognizerSpec]


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _describe(error: dict[str, Any], data: Any) -> str:
    loc = tuple(error["loc"])
    where = _key_path(loc)
    if len(loc) >= 2 and loc[0] == "recognizers" and isinstance(loc[1], int):
        try:
            name = data["recognizers"][loc[1]].get("name")
        except (AttributeError, IndexError, KeyError, TypeError):
            name = None
        if name:
            where += f" (recognizer {name!r})"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}"


def load_recognizer_file(path: Path) -> list[RecognizerSpec]:
    """Parse and check one YAML file; ConfigError names the file and the first wrong key(s)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"recognizer file {path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"recognizer file {path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"recognizer file {path}: expected a mapping with a 'recognizers' list")
    try:
        return RecognizerFile.model_validate(data).recognizers
    except ValidationError as exc:
        problems = "; ".join(_describe(err, data) for err in exc.errors(include_url=False)[:5])
        raise ConfigError(f"recognizer file {path}: {problems}") from None


def recognizer_files(folders: Iterable[Path]) -> list[Path]:
    """The `*.yaml`/`*.yml` files of each folder, in name order; a missing folder is a ConfigError."""
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"recognizer_dirs: {folder} is not a directory")
        files += sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    return files


def load_yaml_recognizers(folders: Iterable[Path]) -> list[PatternRecognizer]:
    """Every recognizer declared in the folders' YAML files; a name used twice is an error."""
    seen: dict[str, Path] = {}
    built: list[PatternRecognizer] = []
    for path in recognizer_files(folders):
        for spec in load_recognizer_file(path):
            if spec.name in seen:
                raise ConfigError(
                    f"recognizer file {path}: recognizer name {spec.name!r} is already defined in {seen[spec.name]}"
                )
            seen[spec.name] = path
            built.append(spec.build())
    return built
