"""What scripts/test-compose asserts about a compose stack after its flow, from the host through the
published Kafka port: every domain's workers caught up (anonymised = raw = the events produced, DLQ
empty), no raw subject id or card number anywhere in an anonymised topic, and the same for the records
Kafka's own console consumer printed inside the kafka container.

    .venv/bin/python -m tests.compose.check_flow --bootstrap 127.0.0.1:PORT --events N \
        --console channel=FILE --ui http://127.0.0.1:PORT [--domain D ...] [--timeout S]
Exit 0 with one line per domain on stdout; exit 1 naming the first failed check on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.settings import Settings
from deid.tail import read_all

# Fields whose raw values must never reach an anonymised topic, beside each domain's subject field.
SECRET_FIELDS = ("card_number",)


class CheckFailed(Exception):
    pass


def _protected(domain: Domain, raw_values: list[bytes]) -> set[str]:
    fields = [f for f in (domain.subject_field, *SECRET_FIELDS) if f and f in domain.fields]
    found = set()
    for value in raw_values:
        event = json.loads(value)
        found |= {str(event[f]) for f in fields if event.get(f) not in (None, "")}
    return found


def _wait_caught_up(settings: Settings, domain: Domain, events: int, timeout: float) -> list[bytes]:
    """The anonymised records once there are as many as raw ones (the worker may still be catching up)."""
    deadline = time.monotonic() + timeout
    while True:
        out = [m.value() for m in read_all(settings, domain.anonymised_topic, "out")]
        if len(out) >= events or time.monotonic() > deadline:
            return out
        time.sleep(3)


def check_domain(settings: Settings, domain: Domain, events: int, timeout: float) -> str:
    raw = [m.value() for m in read_all(settings, domain.raw_topic)]
    if len(raw) != events:
        raise CheckFailed(f"{domain.raw_topic}: {len(raw)} records, expected the {events} produced")
    out = _wait_caught_up(settings, domain, events, timeout)
    dlq = read_all(settings, domain.dlq_topic, "out")
    if len(out) != events or dlq:
        raise CheckFailed(
            f"{domain.name}: {events} in, {len(out)} anonymised, {len(dlq)} in the DLQ (expected {events}, {events}, 0)"
        )
    protected = _protected(domain, raw)
    joined = b"\n".join(out)
    leaked = [v for v in protected if v.encode() in joined]
    if leaked:
        raise CheckFailed(f"{domain.anonymised_topic}: {len(leaked)} raw ids or card numbers in clear")
    return f"{domain.name}: in {events}, anonymised {len(out)}, DLQ 0, {len(protected)} protected values absent"


def check_console(settings: Settings, domain: Domain, events: int, path: Path) -> str:
    """The console consumer's output (one record a line) has every record and no protected raw value."""
    printed = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(printed) != events:
        raise CheckFailed(f"console consumer printed {len(printed)} records of {domain.anonymised_topic}, not {events}")
    protected = _protected(domain, [m.value() for m in read_all(settings, domain.raw_topic)])
    text = "\n".join(printed)
    if any(value in text for value in protected):
        raise CheckFailed(f"console consumer output of {domain.anonymised_topic} holds raw ids or card numbers")
    return f"{domain.name}: kafka-console-consumer printed {len(printed)} anonymised records, none with a raw id"


def check_ui(url: str) -> str:
    """The steward UI answers on the host: its login page, with a password field."""
    with urllib.request.urlopen(f"{url}/login", timeout=30) as response:
        page = response.read().decode()
        if response.status != 200 or 'name="password"' not in page:
            raise CheckFailed(f"{url}/login: HTTP {response.status}, no login form")
    return f"steward UI: {url}/login answers with its login form"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="host:port of the compose Kafka on the host")
    parser.add_argument("--events", type=int, required=True, help="events produced per domain")
    parser.add_argument("--domain", action="append", help="domains to check (default: all)")
    parser.add_argument("--console", action="append", default=[], help="DOMAIN=FILE: console consumer output")
    parser.add_argument("--ui", help="the catalog's URL on the host: its UI must answer")
    parser.add_argument("--timeout", type=float, default=300, help="seconds the workers get to catch up")
    args = parser.parse_args(argv)
    settings = Settings(kafka_bootstrap=args.bootstrap)
    registry = load_registry()
    try:
        for name in args.domain or registry.names:
            print(check_domain(settings, registry.get(name), args.events, args.timeout), flush=True)
        for spec in args.console:
            name, _, file = spec.partition("=")
            print(check_console(settings, registry.get(name), args.events, Path(file)), flush=True)
        if args.ui:
            print(check_ui(args.ui), flush=True)
    except (CheckFailed, DeidError, OSError) as exc:
        print(f"check_flow: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
