"""Build the labelled NER corpus: sentences, multi-sentence memos, emails and short field values.

Splits: `train` and `dev` render the training templates (with different seeds; dev picks the best epoch),
`test` renders only the held-out templates, with its own seed and title lists. Output is the shape of
`producers.memo.labelled_memos`: `(text, [(start, end, label), ...])` with `text[start:end]` the entity.
The same `(split, count, seed)` always gives the same corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from recognizers.ner import templates_heldout, templates_train
from recognizers.ner.values import Piece, ValueFactory

Split = Literal["train", "dev", "test"]
Span = tuple[int, int, str]
LabelledText = tuple[str, list[Span]]

SPLITS: tuple[Split, ...] = ("train", "dev", "test")
# Distinct seeds per split, so dev and test never replay the training draws.
_SEED_OFFSETS: dict[str, int] = {"train": 0, "dev": 1_000_003, "test": 2_000_029}
SLOT = re.compile(r"\{([A-Z_]+)\}")
# Kinds of document and how often each is drawn.
_KINDS: tuple[str, ...] = ("sentence", "memo", "email", "field")
_KIND_WEIGHTS: tuple[float, ...] = (0.40, 0.22, 0.10, 0.28)


@dataclass(frozen=True)
class TemplateSet:
    sentences: tuple[str, ...]
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    fields: tuple[str, ...]

    def all(self) -> tuple[str, ...]:
        return (*self.sentences, *self.openers, *self.closers, *self.fields)


def template_set(split: Split) -> TemplateSet:
    source = templates_heldout if split == "test" else templates_train
    return TemplateSet(source.SENTENCES, source.OPENERS, source.CLOSERS, source.FIELDS)


class _Writer:
    """Accumulates text and the character spans of labelled pieces."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[Span] = []

    def write(self, piece: Piece) -> None:
        if piece.label is None and piece.text.startswith(".") and self.parts and self.parts[-1].endswith("."):
            piece = Piece(piece.text[1:])  # "Roberts & Co." ends the sentence: no "Co.."
        if piece.label is not None:
            self.spans.append((self.length, self.length + len(piece.text), piece.label))
        self.parts.append(piece.text)
        self.length += len(piece.text)

    def result(self) -> LabelledText:
        return "".join(self.parts), self.spans


class CorpusBuilder:
    """Renders documents of one split from its templates with one seeded value factory."""

    def __init__(self, split: Split, seed: int) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        self.templates = template_set(split)
        self.values = ValueFactory(seed + _SEED_OFFSETS[split], split)
        self.rng = self.values.rng

    def render(self, template: str, out: _Writer, bare: bool = False) -> None:
        position = 0
        for match in SLOT.finditer(template):
            if match.start() > position:
                out.write(Piece(template[position : match.start()]))
            for piece in self.values.fill(match.group(1), bare=bare):
                out.write(piece)
            position = match.end()
        if position < len(template):
            out.write(Piece(template[position:]))

    def document(self) -> LabelledText:
        self.values.start_document()
        out = _Writer()
        kind = self.rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        if kind == "field":
            template = self.rng.choice(self.templates.fields)
            self.render(template, out, bare=SLOT.fullmatch(template) is not None)
        elif kind == "sentence":
            self.render(self.rng.choice(self.templates.sentences), out)
        elif kind == "memo":
            self._sentences(out, self.rng.randint(2, 5), " " if self.rng.random() < 0.7 else "\n")
        else:
            self.render(self.rng.choice(self.templates.openers), out)
            out.write(Piece("\n\n"))
            self._sentences(out, self.rng.randint(1, 3), " ")
            out.write(Piece("\n\n"))
            self.render(self.rng.choice(self.templates.closers), out)
        return out.result()

    def _sentences(self, out: _Writer, count: int, separator: str) -> None:
        for index in range(count):
            if index:
                out.write(Piece(separator))
            self.render(self.rng.choice(self.templates.sentences), out)


def build_corpus(split: Split, count: int, seed: int) -> list[LabelledText]:
    """`count` labelled documents of `split`; deterministic for a given seed."""
    builder = CorpusBuilder(split, seed)
    return [builder.document() for _ in range(count)]


def template_slots(split: Split) -> set[str]:
    """Every slot name the split's templates use (tests check each one is a known slot)."""
    return {m.group(1) for t in template_set(split).all() for m in SLOT.finditer(t)}
