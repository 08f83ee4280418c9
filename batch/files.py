"""One input file through the compiled plan, inside a Spark task: read, treat every row, write the outputs.

The main output and each purpose's rows go to their dated part file (`<output>/anonymised/<domain>/<run>/
part-NNNNN.<ext>`, `<output>/<purpose>/<domain>/<run>/…`). A row that cannot be decoded or treated, and a
file that cannot be read at all, go to the raw-side quarantine (`<quarantine>/<domain>/<run>/part-NNNNN.jsonl`,
one JSON object per problem: source file, row number, reason and, for rows, the raw row) and never to an
output. Counts come back to the driver for the manifest. With `k_anonymity: suppress` the run first counts
each output's quasi-identifier tuples over all its files (`count_file_classes`), then `process_file` nulls
the quasi-identifiers of classes smaller than the domain's target k (`KSuppression`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from batch.formats import OUTPUT_EXTENSION, Row, read_rows, write_rows
from batch.store import StoreError, StoreSpec, open_store, sha256_hex
from deid.domains import Domain
from pipelines.plan import Plan
from pipelines.risk import Key, count_classes, suppress_small_classes
from pipelines.transforms import TreatmentError

MAIN_OUTPUT = "anonymised"
PREFETCH_CHUNK = 5000


@dataclass(frozen=True)
class FileTask:
    key: str
    size: int
    etag: str
    format: str
    part: int


@dataclass(frozen=True)
class RunPaths:
    """Where one run writes, relative to the output and quarantine roots."""

    domain: str
    run: str  # "<date>/<time>/run-<id>"

    def output_key(self, output: str, name: str) -> str:
        return f"{output}/{self.domain}/{self.run}/{name}"

    def quarantine_key(self, name: str) -> str:
        return f"{self.domain}/{self.run}/{name}"


@dataclass
class FileResult:
    key: str
    size: int
    etag: str
    format: str
    sha256: str | None = None
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    purposes: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    quarantine: str | None = None
    error: str | None = None
    uncovered: list[str] = field(default_factory=list)
    k_suppressed: dict[str, int] = field(default_factory=dict)
    """Per output: records whose quasi-identifiers were nulled (`k_anonymity: suppress`)."""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {})}


@dataclass(frozen=True)
class KSuppression:
    """`k_anonymity: suppress` in a batch run. The first pass (`count_file_classes`) counts the quasi-identifier
    tuples of every output over all the run's files; the second (`process_file`) nulls the quasi-identifiers
    of records whose tuple fewer than `target_k` of them share."""

    quasi_identifiers: tuple[str, ...]
    target_k: int
    classes: dict[str, Counter[Key]] = field(default_factory=dict)
    """Output name → tuple → records in the whole run (empty in the first pass)."""


def process_file(
    task: FileTask,
    plan: Plan,
    domain: Domain,
    source: StoreSpec,
    output: StoreSpec,
    quarantine: StoreSpec,
    paths: RunPaths,
    k_suppression: KSuppression | None = None,
) -> FileResult:
    result = FileResult(task.key, task.size, task.etag, task.format)
    part = f"part-{task.part:05d}"
    problems: list[dict[str, Any]] = []
    rows = _read(task, source, domain, result, problems)
    outputs = _treat_rows(rows, plan, problems, task.key)
    result.rows_in = len(rows)
    result.rows_out = len(outputs[MAIN_OUTPUT])
    result.quarantined = len(problems) - (1 if result.error else 0)
    if k_suppression is not None:
        for name, records in outputs.items():
            classes = k_suppression.classes.get(name, {})
            found = suppress_small_classes(records, k_suppression.quasi_identifiers, k_suppression.target_k, classes)
            result.k_suppressed[name] = found
    out_store = open_store(output)
    extension = OUTPUT_EXTENSION[task.format]
    for name, records in outputs.items():
        if name != MAIN_OUTPUT:
            result.purposes[name] = len(records)
        if records:
            key = paths.output_key(name, f"{part}.{extension}")
            out_store.write(key, write_rows(task.format, records, domain))
            result.outputs.append(key)
    if problems:
        key = paths.quarantine_key(f"{part}.jsonl")
        open_store(quarantine).write(key, b"".join(orjson.dumps(p) + b"\n" for p in problems), "application/x-ndjson")
        result.quarantine = key
    result.uncovered = sorted(plan.uncovered)
    return result


def count_file_classes(
    task: FileTask, plan: Plan, domain: Domain, source: StoreSpec, quasi_identifiers: Sequence[str]
) -> dict[str, Counter[Key]]:
    """The first pass of a k-suppressing run: one file treated as `process_file` treats it, nothing written;
    per output, how many records share each quasi-identifier tuple. An unreadable file counts nothing (the
    second pass quarantines it)."""
    rows = _read(task, source, domain, FileResult(task.key, task.size, task.etag, task.format), [])
    outputs = _treat_rows(rows, plan, [], task.key)
    return {name: count_classes(records, quasi_identifiers) for name, records in outputs.items()}


def _read(
    task: FileTask, source: StoreSpec, domain: Domain, result: FileResult, problems: list[dict[str, Any]]
) -> list[Row]:
    try:
        data = open_store(source).read(task.key)
        result.sha256 = sha256_hex(data)
        return list(read_rows(task.format, data, task.key, domain))
    except (StoreError, UnicodeDecodeError, ValueError, OSError) as exc:
        # ValueError covers pyarrow's ArrowInvalid: a truncated or foreign Parquet file. No value is in the reason.
        result.error = _file_reason(exc)
        problems.append({"source": task.key, "reason": f"unreadable file: {result.error}"})
        return []


def _treat_rows(
    rows: list[Row], plan: Plan, problems: list[dict[str, Any]], source: str
) -> dict[str, list[dict[str, Any]]]:
    """Every row through the plan, a chunk at a time: output name → records (bad rows join `problems`)."""
    outputs: dict[str, list[dict[str, Any]]] = {MAIN_OUTPUT: []}
    topics = {plan.topic: MAIN_OUTPUT, **{p.topic: p.name for p in plan.purposes}}
    for start in range(0, len(rows), PREFETCH_CHUNK):
        chunk = rows[start : start + PREFETCH_CHUNK]
        records = [r.record for r in chunk if r.record is not None]
        plan.prefetch_subject_keys(records)
        plan.prepare_batch(records)  # anonymize_text: one analyzer pass per chunk, as the streaming worker does
        for row in chunk:
            _treat(row, plan, topics, outputs, problems, source)
    return outputs


def _treat(
    row: Row,
    plan: Plan,
    topics: dict[str, str],
    outputs: dict[str, list[dict[str, Any]]],
    problems: list[dict[str, Any]],
    source: str,
) -> None:
    if row.record is None:
        problems.append({"source": source, "row": row.number, "reason": row.reason, "raw": row.raw})
        return
    try:
        results = plan.outputs(row.record)
    except TreatmentError as exc:
        # The raw row stays on the raw side (the quarantine is there); the reason names the field, not the value.
        raw = orjson.dumps(row.record, default=str).decode()
        problems.append({"source": source, "row": row.number, "reason": f"{exc.field_path}: {exc.reason}", "raw": raw})
        return
    for topic, record in results:
        outputs.setdefault(topics[topic], []).append(record)


def _file_reason(exc: Exception) -> str:
    if isinstance(exc, StoreError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return f"cannot be decoded ({type(exc).__name__})"


def summarise(results: list[FileResult]) -> dict[str, Any]:
    purposes: Counter[str] = Counter()
    suppressed: Counter[str] = Counter()
    for r in results:
        purposes.update(r.purposes)
        suppressed.update(r.k_suppressed)
    return {
        "files": len(results),
        "unreadable_files": sum(1 for r in results if r.error),
        "rows_in": sum(r.rows_in for r in results),
        "rows_out": sum(r.rows_out for r in results),
        "quarantined": sum(r.quarantined for r in results),
        "purposes": dict(sorted(purposes.items())),
        **({"k_suppressed": dict(sorted(suppressed.items()))} if any(r.k_suppressed for r in results) else {}),
    }
