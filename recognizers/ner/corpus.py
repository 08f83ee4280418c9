"""Build the labelled NER corpus: sentences, multi-sentence memos, emails and short field values.

Splits: `train` and `dev` render disjoint parts of the training templates (dev, with its own seed, picks
the best epoch and guides corpus work), `test` renders only the held-out templates, with its own seed and
title lists; nobody tunes on it. Output is the shape of
`producers.memo.labelled_memos`: `(text, [(start, end, label), ...])` with `text[start:end]` the entity.
The same `(split, count, seed)` always gives the same corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from recognizers.ner import grammar, templates_dev, templates_heldout, templates_train
from recognizers.ner.values import Piece, ValueFactory

Split = Literal["train", "dev", "test"]
Span = tuple[int, int, str]
LabelledText = tuple[str, list[Span]]

SPLITS: tuple[Split, ...] = ("train", "dev", "test")
# Distinct seeds per split, so dev and test never replay the training draws.
_SEED_OFFSETS: dict[str, int] = {"train": 0, "dev": 1_000_003, "test": 2_000_029}
SLOT = re.compile(r"\{([A-Z_]+)\}")
# Dev picks the best epoch on templates that training never sees, so it measures what the held-out split
# measures (unseen wording) without ever looking at the held-out templates.
DEV_EVERY = 6
# Share of training sentences composed by `grammar` rather than taken from the hand-written templates.
COMPOSED_SHARE = 0.5
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


def _dev_share(templates: tuple[str, ...], dev: bool) -> tuple[str, ...]:
    """Every DEV_EVERY-th training template is kept for dev only; bare values (`{CITY}`) belong to both."""
    return tuple(t for i, t in enumerate(templates) if SLOT.fullmatch(t) or (i % DEV_EVERY == DEV_EVERY - 1) == dev)


def template_set(split: Split) -> TemplateSet:
    """Templates of a split: test = held-out; train and dev = disjoint parts of the training templates."""
    if split == "test":
        h = templates_heldout
        return TemplateSet(h.SENTENCES, h.OPENERS, h.CLOSERS, h.FIELDS)
    t, dev = templates_train, split == "dev"
    shares = [_dev_share(group, dev) for group in (t.SENTENCES, t.OPENERS, t.CLOSERS, t.FIELDS)]
    if dev:
        d = templates_dev
        shares = [
            (*mine, *extra) for mine, extra in zip(shares, (d.SENTENCES, d.OPENERS, d.CLOSERS, d.FIELDS), strict=True)
        ]
    return TemplateSet(*shares)


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
        self.composed = split == "train"  # grammar-made sentences: training only
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
            use_grammar = self.composed and self.rng.random() < COMPOSED_SHARE
            template = grammar.field(self.rng) if use_grammar else self.rng.choice(self.templates.fields)
            self.render(template, out, bare=SLOT.fullmatch(template) is not None)
        elif kind == "sentence":
            self.render(self._sentence(), out)
        elif kind == "memo":
            self._sentences(out, self.rng.randint(2, 5), " " if self.rng.random() < 0.7 else "\n")
        else:
            self.render(self.rng.choice(self.templates.openers), out)
            out.write(Piece("\n\n"))
            self._sentences(out, self.rng.randint(1, 3), " ")
            out.write(Piece("\n\n"))
            closers = self.templates.closers
            self.render(
                grammar.closing(self.rng) if self.composed and self.rng.random() < 0.5 else self.rng.choice(closers),
                out,
            )
        return out.result()

    def _sentence(self) -> str:
        if self.composed and self.rng.random() < COMPOSED_SHARE:
            return grammar.compose(self.rng)
        return self.rng.choice(self.templates.sentences)

    def _sentences(self, out: _Writer, count: int, separator: str) -> None:
        for index in range(count):
            if index:
                out.write(Piece(separator))
            self.render(self._sentence(), out)


def build_corpus(split: Split, count: int, seed: int) -> list[LabelledText]:
    """`count` labelled documents of `split`; deterministic for a given seed."""
    builder = CorpusBuilder(split, seed)
    return [builder.document() for _ in range(count)]


def template_slots(split: Split) -> set[str]:
    """Every slot name the split's templates use (tests check each one is a known slot)."""
    return {m.group(1) for t in template_set(split).all() for m in SLOT.finditer(t)}
