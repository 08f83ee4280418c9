"""deid's offline named-entity model: a small spaCy pipeline trained from Faker-built text, shipped in the package.

No spaCy model can be downloaded on air-gapped machines, so deid trains its own (`scripts/train-ner`) and
commits the result under `recognizers/models/deid_ner/`. Its entity labels are Presidio's entity names, so
the NLP engine maps them one to one. Importing this package is cheap: spaCy loads only in `load_model()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from deid.errors import DeidError

if TYPE_CHECKING:
    from spacy.language import Language

MODEL_DIR: Path = Path(__file__).resolve().parent.parent / "models" / "deid_ner"
"""Where the trained pipeline lives (`nlp.to_disk()` layout, with `meta.json`)."""

LABELS: tuple[str, ...] = ("PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME")
"""The model's entity labels; they are Presidio's entity names (identity mapping)."""

PRESIDIO_ENTITY_MAPPING: dict[str, str] = {label: label for label in LABELS}
"""`model_to_presidio_entity_mapping` for Presidio's `NerModelConfiguration`."""


def model_available(model_dir: Path = MODEL_DIR) -> bool:
    """True when a trained pipeline is present (a fresh checkout has one; a broken copy does not)."""
    return (model_dir / "meta.json").is_file() and (model_dir / "config.cfg").is_file()


def load_model(model_dir: Path = MODEL_DIR) -> Language:
    """Load the pipeline from disk (never downloads anything)."""
    import spacy

    if not model_available(model_dir):
        raise DeidError(f"no trained NER model in {model_dir} (meta.json or config.cfg missing); run scripts/train-ner")
    return spacy.load(model_dir)
