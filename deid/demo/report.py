"""What the demo shows at the end: per domain, one raw event beside its anonymised twin (matched by
the `event_id` header), and a table of events in/out/DLQ, treatments, seconds and each domain's minimum k
(k-anonymity of the anonymised topic over the domain's quasi-identifiers; `deid risk DOMAIN` details it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TextIO

from deid.domains import Domain
from deid.events import EVENT_ID_HEADER
from deid.kafka import make_registry_client
from deid.output import print_table
from deid.settings import Settings
from deid.tail import RegistryAvroDecoder, decode_value, jsonable, read_all
from pipelines.risk_topic import messages_risk

TWIN_WIDTH = 44


@dataclass
class DomainResult:
    domain: str
    policy_version: int = 0
    treatments: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    events_in: int = 0
    events_out: int = 0
    dlq: int = 0
    purposes: dict[str, int] = field(default_factory=dict)
    raw_example: dict[str, Any] | None = None
    anonymised_example: dict[str, Any] | None = None
    min_k: int | None = None
    """k-anonymity of the anonymised topic over the domain's quasi-identifiers (None: it names none)."""
    target_k: int | None = None


def topic_count(settings: Settings, topic: str) -> int:
    """Committed records in `topic` (transaction markers take offsets, so offsets cannot say)."""
    return len(read_all(settings, topic))


def _event_id(message: Any) -> str | None:
    for key, value in message.headers() or []:
        if key == EVENT_ID_HEADER and value is not None:
            return value.decode()
    return None


def collect(settings: Settings, domain: Domain, result: DomainResult) -> None:
    """Counts of the domain's topics and an example raw/anonymised pair into `result`."""
    raw = read_all(settings, domain.raw_topic)
    out = read_all(settings, domain.anonymised_topic, side="out")
    result.events_in, result.events_out = len(raw), len(out)
    result.dlq = topic_count(settings, domain.dlq_topic)
    if domain.quasi_identifiers:
        report = messages_risk(settings, domain, out).report()
        result.min_k, result.target_k = report.min_k, report.target_k
    decode = RegistryAvroDecoder(lambda: make_registry_client(settings))
    by_id = {_event_id(m): m for m in out}
    for message in raw:
        twin = by_id.get(_event_id(message))
        if twin is not None:
            result.raw_example = decode_value(message.value())
            result.anonymised_example = jsonable(decode_value(twin.value(), decode))
            return


def _lines(record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return ["(none)"]
    lines = []
    for key, value in record.items():
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        line = f"{key}: {text}"
        lines.append(line if len(line) <= TWIN_WIDTH else line[: TWIN_WIDTH - 1] + "…")
    return lines


def print_twins(results: list[DomainResult], out: TextIO) -> None:
    for result in results:
        out.write(f"\n{result.domain}: raw event → anonymised twin (policy v{result.policy_version})\n")
        left, right = _lines(result.raw_example), _lines(result.anonymised_example)
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else ""
            b = right[index] if index < len(right) else ""
            out.write(f"  {a:<{TWIN_WIDTH}}  │ {b}\n")


def print_summary(results: list[DomainResult]) -> None:
    rows = [
        [
            r.domain,
            r.events_in,
            r.events_out,
            r.dlq,
            ", ".join(f"{name} {count}" for name, count in r.treatments.items()),
            f"v{r.policy_version}",
            f"{r.seconds:.1f}",
            "-" if r.min_k is None else f"{r.min_k} (target {r.target_k})",
        ]
        for r in results
    ]
    print_table(["domain", "events in", "out", "DLQ", "fields by treatment", "policy", "seconds", "min k"], rows)
