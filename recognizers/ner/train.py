"""Train deid's offline NER model: `python -m recognizers.ner.train` (or `scripts/train-ner`).

Builds the corpus (train/dev from the training templates, test from the held-out templates), trains the
`ner` component from scratch on CPU, keeps the epoch with the best dev F1 (dev never uses held-out
templates), scores it on the held-out split and saves it with `nlp.to_disk()`; `meta.json` carries the
held-out scores and everything needed to rebuild it. The same --seed and options give the same model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recognizers.ner import LABELS, MODEL_DIR
from recognizers.ner.corpus import build_corpus, template_set
from recognizers.ner.evaluate import Scores, evaluate, format_scores
from recognizers.ner.pipeline import ModelShape, add_lemmatizer, blank_pipeline, to_examples

MODEL_VERSION = "1.0.0"


@dataclass(frozen=True)
class TrainOptions:
    out: Path = MODEL_DIR
    seed: int = 7
    train_docs: int = 14000
    dev_docs: int = 1500
    test_docs: int = 3000
    max_epochs: int = 5
    patience: int = 3
    max_minutes: float = 20.0
    dropout: float = 0.15
    learn_rate: float = 0.001
    batch_start: float = 16.0
    batch_stop: float = 64.0
    shape: ModelShape = field(default_factory=ModelShape)
    quiet: bool = False
    metrics_json: Path | None = None


@dataclass
class TrainResult:
    out: Path
    epochs: int
    best_epoch: int
    seconds: float
    skipped_docs: int
    dev: Scores
    test: Scores
    history: list[dict[str, Any]]
    stopped_by_clock: bool = False


def _log(options: TrainOptions, message: str) -> None:
    if not options.quiet:
        print(message, file=sys.stderr, flush=True)


def train(options: TrainOptions) -> TrainResult:
    """Train, select on dev, score on held-out, save to `options.out`; returns the figures."""
    import spacy
    from spacy.util import fix_random_seed
    from thinc.api import Adam

    _check_out(options.out)
    started = time.perf_counter()
    fix_random_seed(options.seed)
    nlp = blank_pipeline(options.shape)
    _log(options, f"building corpus: {options.train_docs} train, {options.dev_docs} dev, {options.test_docs} test")
    train_examples, skipped = to_examples(nlp, build_corpus("train", options.train_docs, options.seed))
    dev_corpus = build_corpus("dev", options.dev_docs, options.seed)
    test_corpus = build_corpus("test", options.test_docs, options.seed)
    optimizer = Adam(learn_rate=options.learn_rate, L2=1e-6, grad_clip=1.0, use_averages=True)
    nlp.initialize(lambda: train_examples, sgd=optimizer)
    add_lemmatizer(nlp)
    with tempfile.TemporaryDirectory(prefix="deid-ner-") as scratch:
        best_dir = Path(scratch) / "best"
        run = _epochs(nlp, optimizer, train_examples, dev_corpus, best_dir, options, started)
        best = spacy.load(best_dir)
    result = TrainResult(
        out=options.out,
        epochs=run.epochs,
        best_epoch=run.best_epoch,
        seconds=round(time.perf_counter() - started, 1),
        skipped_docs=skipped,
        dev=evaluate(best, dev_corpus),
        test=evaluate(best, test_corpus),
        history=run.history,
        stopped_by_clock=run.stopped_by_clock,
    )
    best.meta.update(_meta(options, result))
    _save(best, options.out)
    return result


@dataclass
class _Run:
    epochs: int = 0
    best_epoch: int = 0
    best_f1: float = -1.0
    stopped_by_clock: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)


def _epochs(
    nlp: Any, optimizer: Any, examples: list[Any], dev_corpus: list[Any], best_dir: Path, options: TrainOptions,
    started: float,
) -> _Run:  # fmt: skip
    """The training loop: one pass per epoch, dev score with averaged weights, the best epoch kept on disk."""
    from spacy.util import compounding, minibatch

    rng = random.Random(options.seed)
    run = _Run()
    deadline = started + options.max_minutes * 60
    for epoch in range(1, options.max_epochs + 1):
        run.epochs = epoch
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        epoch_start, words = time.perf_counter(), 0
        for batch in minibatch(examples, size=compounding(options.batch_start, options.batch_stop, 1.001)):
            nlp.update(batch, drop=options.dropout, sgd=optimizer, losses=losses)
            words += sum(len(example.reference) for example in batch)
        speed = words / (time.perf_counter() - epoch_start)
        with nlp.use_params(optimizer.averages):
            dev = evaluate(nlp, dev_corpus)
            if dev["ALL"]["f1"] > run.best_f1:
                run.best_f1, run.best_epoch = float(dev["ALL"]["f1"]), epoch
                nlp.to_disk(best_dir)
        run.history.append({"epoch": epoch, "loss": round(losses.get("ner", 0.0), 2), "dev_f1": dev["ALL"]["f1"]})
        _log(
            options,
            f"epoch {epoch}: loss {losses.get('ner', 0.0):.1f}, dev F1 {dev['ALL']['f1']:.4f} "
            f"(PERSON {dev['PERSON']['f1']:.4f}, LOCATION {dev['LOCATION']['f1']:.4f}), "
            f"{speed:.0f} words/s, {time.perf_counter() - started:.0f}s in all",
        )
        if epoch < options.max_epochs and time.perf_counter() > deadline:
            # A guard for slow machines; a run it cuts short depends on machine speed, so meta.json says so
            # (after the last epoch there is nothing to cut: the model is the same on any machine).
            _log(options, f"stopping after epoch {epoch}: --max-minutes {options.max_minutes} reached")
            run.stopped_by_clock = True
            break
        if epoch - run.best_epoch >= options.patience:
            _log(options, f"stopping: no dev improvement for {options.patience} epochs")
            break
    return run


def _meta(options: TrainOptions, result: TrainResult) -> dict[str, Any]:
    settings = {k: v for k, v in asdict(options).items() if k not in {"out", "quiet", "metrics_json"}}
    return {
        "name": "deid_ner",
        "version": MODEL_VERSION,
        "spacy_version": ">=3.8.0,<3.9.0",
        "description": "deid's offline NER model, trained from scratch on a Faker-built corpus (EU locales). "
        "Labels are Presidio entity names: " + ", ".join(LABELS) + ".",
        "author": "deid",
        "license": "Apache-2.0",
        "sources": [{"name": "Faker-built corpus (recognizers/ner/corpus.py)", "url": "", "license": "MIT"}],
        "performance": {
            "heldout": {label: {k: row[k] for k in ("precision", "recall", "f1")} for label, row in result.test.items()}
        },
        "deid": {
            "rebuild": "scripts/train-ner --seed {seed}".format(**settings),
            "training": settings,
            "epochs_run": result.epochs,
            "best_epoch": result.best_epoch,
            "stopped_by_max_minutes": result.stopped_by_clock,
            # No wall-clock figure here: the same --seed and options must write the same bytes.
            "skipped_docs": result.skipped_docs,
            "templates": {split: len(template_set(split).all()) for split in ("train", "test")},
            "history": result.history,
            "dev": result.dev,
            "heldout": result.test,
        },
    }


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "meta.json").is_file())):
        raise SystemExit(f"error: {out} exists and is not a model folder (no meta.json); refusing to replace it")


def _save(nlp: Any, out: Path) -> None:
    """Write next to `out`, then swap, so a crash never leaves a half-written model behind."""
    out = out.resolve()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        nlp.to_disk(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)  # mkdtemp makes it private; the model is package data
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def parse_args(argv: list[str] | None = None) -> TrainOptions:
    defaults = TrainOptions()
    parser = argparse.ArgumentParser(
        prog="scripts/train-ner",
        description="Build deid's offline NER model (PERSON, LOCATION, ORGANIZATION, NRP, DATE_TIME) from a "
        "Faker corpus across EU locales and save it with nlp.to_disk(). No download; CPU only; the same --seed "
        "and options rebuild the same model. Prints per-label precision/recall/F1 on the held-out split "
        "(templates the model never saw).",
        epilog=f"Default output: {MODEL_DIR} (the model deid ships). Example: scripts/train-ner --seed 7",
    )
    add = parser.add_argument
    add("--out", type=Path, default=defaults.out, help="model folder to write (replaced if it holds a model)")
    add("--seed", type=int, default=defaults.seed, help=f"corpus and training seed (default {defaults.seed})")
    add("--train-docs", type=int, default=defaults.train_docs, help="training documents")
    add("--dev-docs", type=int, default=defaults.dev_docs, help="dev documents (training templates, other seed)")
    add("--test-docs", type=int, default=defaults.test_docs, help="held-out documents (held-out templates)")
    add("--max-epochs", type=int, default=defaults.max_epochs, help="upper bound on epochs")
    add("--patience", type=int, default=defaults.patience, help="stop after this many epochs without dev gain")
    add(
        "--max-minutes",
        type=float,
        default=defaults.max_minutes,
        help="start no new epoch after this long (a guard for slow machines; the run then depends on speed)",
    )
    add("--dropout", type=float, default=defaults.dropout)
    add("--embed-size", type=int, default=defaults.shape.embed_size, help="hash embedding rows per feature")
    add("--width", type=int, default=defaults.shape.width, help="tok2vec width")
    add("--depth", type=int, default=defaults.shape.depth, help="tok2vec CNN depth")
    add("--metrics-json", type=Path, help="also write the dev and held-out scores to this JSON file")
    add("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    for name in ("train_docs", "dev_docs", "test_docs", "max_epochs", "patience", "embed_size", "width", "depth"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_minutes <= 0 or not 0 <= args.dropout < 1:
        parser.error("--max-minutes must be positive and --dropout in [0, 1)")
    return TrainOptions(
        out=args.out,
        seed=args.seed,
        train_docs=args.train_docs,
        dev_docs=args.dev_docs,
        test_docs=args.test_docs,
        max_epochs=args.max_epochs,
        patience=args.patience,
        max_minutes=args.max_minutes,
        dropout=args.dropout,
        shape=ModelShape(width=args.width, depth=args.depth, embed_size=args.embed_size),
        quiet=args.quiet,
        metrics_json=args.metrics_json,
    )


def main(argv: list[str] | None = None) -> int:
    # The machine is shared: numpy/BLAS get at most two threads unless the caller says otherwise.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ.setdefault(variable, "2")
    options = parse_args(argv)
    result = train(options)
    print(f"model saved to {result.out} (best epoch {result.best_epoch} of {result.epochs}, {result.seconds}s)")
    print("held-out split (templates never seen in training):")
    print(format_scores(result.test))
    if options.metrics_json is not None:
        options.metrics_json.write_text(json.dumps({"dev": result.dev, "heldout": result.test}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
