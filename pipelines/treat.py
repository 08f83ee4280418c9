"""A batch's decoded records → what goes out: each record's treated main output and its encoded outputs.

With no purposes (one output topic), the batch goes through in two passes: `Plan.apply_batch` (column by
column for flat plans) and the main encoder's `encode_batch` (column by column too). With purposes, each
record gets `Plan.outputs` and one encode per output. Either way the result, record by record, is what
`apply`/`outputs` and `encode` give it: (main record, [(topic, bytes), …]), or the Rejection that sends
it to the DLQ (treatment: a rule refused a value; encode: the treated record does not fit its schema).
"""

from __future__ import annotations

from typing import Any, Protocol

from pipelines.avro import AvroEncodeError, ConfluentAvroEncoder
from pipelines.dlq import Rejection
from pipelines.transforms import TreatmentError

Treated = tuple[dict[str, Any], list[tuple[str, bytes]]]


class BatchPlan(Protocol):
    purposes: list[Any]

    def apply_batch(self, records: list[Any]) -> list[Any]: ...

    def outputs(self, record: Any) -> list[tuple[str, dict[str, Any]]]: ...


def treat_batch(
    plan: BatchPlan, encoders: dict[str, ConfluentAvroEncoder], main_topic: str, records: list[dict[str, Any]]
) -> list[Treated | Rejection]:
    """One entry per record, in order: (main record, [(topic, encoded value), …]) or its Rejection."""
    if plan.purposes:
        return [_treat_one(plan, encoders, record) for record in records]
    treated = plan.apply_batch(records)
    good = [out for out in treated if type(out) is dict]
    values = encoders[main_topic].encode_batch(good)
    if len(good) == len(treated) and all(type(value) is bytes for value in values):  # the usual batch
        return [(out, [(main_topic, value)]) for out, value in zip(good, values, strict=True)]
    encoded = iter(values)
    results: list[Treated | Rejection] = []
    for out in treated:
        if type(out) is not dict:
            results.append(Rejection("treatment", str(out), out.field_path))
            continue
        value = next(encoded)
        if type(value) is bytes:
            results.append((out, [(main_topic, value)]))
        else:
            results.append(Rejection("encode", str(value)))
    return results


def _treat_one(
    plan: BatchPlan, encoders: dict[str, ConfluentAvroEncoder], record: dict[str, Any]
) -> Treated | Rejection:
    try:
        outputs = plan.outputs(record)
        return outputs[0][1], [(topic, encoders[topic].encode(out)) for topic, out in outputs]
    except TreatmentError as exc:
        return Rejection("treatment", str(exc), exc.field_path)
    except AvroEncodeError as exc:
        return Rejection("encode", str(exc))
