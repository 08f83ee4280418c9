"""The shape of deid's NER pipeline: blank English, a small CNN tok2vec inside the `ner` component, and a
lookup lemmatizer so that Presidio's context enhancer (which compares context words with lemmas) works.

Nothing pretrained and nothing to download: hash embeddings of NORM, PREFIX, SUFFIX and SHAPE let the
model recognise unseen names by their spelling and their context; small static word-class vectors
(`gazetteer`) tell it which words are ordinary English words, known given names, places and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recognizers.ner import lexicon
from recognizers.ner.gazetteer import add_word_class_vectors

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

    from recognizers.ner.corpus import LabelledText


@dataclass(frozen=True)
class ModelShape:
    width: int = 64
    depth: int = 4
    embed_size: int = 4000
    hidden_width: int = 64
    word_classes: bool = True
    """Static word-class vectors (`gazetteer`): ordinary word, given name, surname, place, ..."""


def blank_pipeline(shape: ModelShape) -> Language:
    """An untrained pipeline: tokenizer + `ner` with its own tok2vec."""
    import spacy

    nlp = spacy.blank("en")
    if shape.word_classes:
        add_word_class_vectors(nlp)
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": shape.hidden_width,
                "maxout_pieces": 2,
                "use_upper": True,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": shape.word_classes or None,
                    "width": shape.width,
                    "depth": shape.depth,
                    "embed_size": shape.embed_size,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    return nlp


def add_lemmatizer(nlp: Language) -> None:
    """Lookup lemmatizer with a small table; words not in it keep their text as lemma (never empty)."""
    from spacy.lookups import Lookups

    lookups = Lookups()
    lookups.add_table("lemma_lookup", dict(lexicon.LEMMAS))
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    lemmatizer.initialize(lookups=lookups)  # type: ignore[attr-defined]


def to_examples(nlp: Language, corpus: list[LabelledText]) -> tuple[list[Example], int]:
    """spaCy training examples; documents whose spans do not fall on token boundaries are skipped (counted)."""
    from spacy.training import Example

    examples: list[Example] = []
    skipped = 0
    for text, spans in corpus:
        doc = nlp.make_doc(text)
        if any(doc.char_span(start, end) is None for start, end, _ in spans):
            skipped += 1
            continue
        examples.append(Example.from_dict(doc, {"entities": [list(s) for s in spans]}))
    return examples, skipped
