"""A batch's decoded records → what goes out: each record's treated main output and its encoded outputs.

With no purposes (one output topic), the batch goes through in two passes: `Plan.treat_columns` (flat plans:
the batch treated field by field) and the main encoder's `encode_columns` (field by field too), so a record
becomes a dict only if asked for (the risk window reads them); other plans: `Plan.apply_batch`, then
`encode_batch`. With purposes (or k-anonymity suppression, which must see each treated record before it is
encoded), each record gets `Plan.outputs` and one encode per output. Either way the
result, record by record, is what `apply`/`outputs` and `encode` give it: (main record, [(topic, bytes),
…]), or the Rejection that sends it to the DLQ (treatment: a rule refused a value; encode: the treated
record does not fit its schema).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pipelines.avro import AvroEncodeError, ConfluentAvroEncoder
from pipelines.columns import Columns
from pipelines.dlq import Rejection
from pipelines.transforms import TreatmentError

Treated = tuple[dict[str, Any] | None, list[tuple[str, bytes]]]


class BatchPlan(Protocol):
    purposes: list[Any]

    def treat_columns(self, records: list[Any]) -> Columns | None: ...

    def apply_batch(self, records: list[Any]) -> list[Any]: ...

    def outputs(self, record: Any) -> list[tuple[str, dict[str, Any]]]: ...


def treat_batch(
    plan: BatchPlan,
    encoders: dict[str, ConfluentAvroEncoder],
    main_topic: str,
    records: list[dict[str, Any]],
    want_records: bool = True,
    suppressors: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> list[Treated | Rejection]:
    """One entry per record, in order: (main record, [(topic, encoded value), …]) or its Rejection. Without
    `want_records` a flat plan's batch goes from columns to bytes and the main record is None. `suppressors`
    (k_anonymity: suppress), per output topic, see each treated record before it is encoded."""
    if plan.purposes or suppressors:
        return [_treat_one(plan, encoders, record, suppressors or {}) for record in records]
    columns = plan.treat_columns(records)
    if columns is None:  # not a flat plan: record by record, then one encode_batch
        treated = plan.apply_batch(records)
        return _encoded(treated, encoders[main_topic].encode_batch([r for r in treated if type(r) is dict]), main_topic)
    values = encoders[main_topic].encode_columns(columns.treated(), columns.count - len(columns.failed))
    rows: list[Any] = columns.rows() if want_records or columns.failed else [None] * columns.count
    return _encoded(rows, values, main_topic)


def _encoded(treated: list[Any], values: list[Any], main_topic: str) -> list[Treated | Rejection]:
    """Rows (record, None or TreatmentError) and the encoded values of the good ones, in order, joined."""
    if len(values) == len(treated) and all(type(value) is bytes for value in values):  # the usual batch
        return [(row, [(main_topic, value)]) for row, value in zip(treated, values, strict=True)]
    encoded = iter(values)
    results: list[Treated | Rejection] = []
    for out in treated:
        if isinstance(out, TreatmentError):
            results.append(Rejection("treatment", str(out), out.field_path))
            continue
        value = next(encoded)
        if type(value) is bytes:
            results.append((out, [(main_topic, value)]))
        else:
            results.append(Rejection("encode", str(value)))
    return results


def _treat_one(
    plan: BatchPlan,
    encoders: dict[str, ConfluentAvroEncoder],
    record: dict[str, Any],
    suppressors: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]],
) -> Treated | Rejection:
    try:
        outputs = plan.outputs(record)
        if suppressors:
            outputs = [(topic, suppressors[topic](out) if topic in suppressors else out) for topic, out in outputs]
        return outputs[0][1], [(topic, encoders[topic].encode(out)) for topic, out in outputs]
    except TreatmentError as exc:
        return Rejection("treatment", str(exc), exc.field_path)
    except AvroEncodeError as exc:
        return Rejection("encode", str(exc))
