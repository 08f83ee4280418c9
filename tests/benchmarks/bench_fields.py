"""Field classification scored on data deid did not generate, beside the in-distribution figure.

Independent: the hand-written datasets of `tests/data/fields/field_eval.yaml` (own vocabulary and shapes,
nothing from producers/, Faker or the NER training data), built by `field_eval.py`. In-distribution: the seed
domains from deid's own generators. Each field is scored with the structural rules (what inference does) and
with the analyzer's rule alone (the ablation), as field accuracy (entity in gold) and binary treated-or-not
precision / recall / F2 over fields. Not a timing: the figures are the same on any machine.
"""

from __future__ import annotations

from typing import Any

from deid.domains import load_registry
from deid.settings import load_settings
from producers.registry import generator_for
from recognizers import build_analyzer, engine_choice
from tests.benchmarks.common import BenchContext, print_table, progress
from tests.benchmarks.field_eval import SEED_GOLD, Dataset, FieldResult, classify_dataset, load_datasets, score

NAME = "fields"
DESCRIPTION = "field classification accuracy and binary P/R/F2: independent hand-written set vs seed domains"


def seed_datasets(count: int) -> list[Dataset]:
    registry = load_registry()
    out = []
    for name, gold in SEED_GOLD.items():
        domain = registry.get(name)
        generator = generator_for(domain, 17)
        records = [generator.event() for _ in range(count)]
        out.append(Dataset(name, domain.subject_field, domain.event_time_field, records, gold))
    return out


def run(ctx: BenchContext) -> dict[str, Any]:
    settings = load_settings()
    progress(engine_choice(settings).describe())
    factory = lambda: build_analyzer(settings)  # noqa: E731
    sets = {"independent": load_datasets(), "in_distribution": seed_datasets(ctx.count(1500, 300))}
    if ctx.quick:
        sets = {k: [d for d in v][:2] for k, v in sets.items()}
    result: dict[str, Any] = {"engine": engine_choice(settings).describe()}
    rows = []
    misses: list[FieldResult] = []
    for kind, datasets in sets.items():
        results = [r for d in datasets for r in classify_dataset(d, factory)]
        structural, plain = score(results, "structural"), score(results, "analyzer_only")
        result[kind] = {"structural": structural, "analyzer_only": plain}
        result[f"{kind}_fields"] = [
            {"dataset": r.dataset, "field": r.path, "gold": sorted(r.gold), "got": r.structural,
             "analyzer_only": r.analyzer_only, "role": r.role}
            for r in results
        ]  # fmt: skip
        for label, figures in (("structural", structural), ("analyzer only", plain)):
            rows.append(
                [kind, label, figures["fields"], figures["accuracy"], figures["binary_precision"],
                 figures["binary_recall"], figures["binary_f2"],
                 f"{figures['person_fields_right']}/{figures['person_fields']}",
                 f"{figures['non_pii_fields_right']}/{figures['non_pii_fields']}"]
            )  # fmt: skip
        misses += [r for r in results if r.structural not in r.gold]
    print_table(["set", "rules", "fields", "accuracy", "bin P", "bin R", "bin F2", "PERSON ok", "NON_PII ok"], rows)
    if misses:
        print("\nfields the structural rules get wrong:")
        print_table(
            ["set", "field", "gold", "got", "role"],
            [[r.dataset, r.path, "|".join(sorted(r.gold)), r.structural, r.role or ""] for r in misses],
        )
    return result
