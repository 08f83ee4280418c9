"""What scripts/test-compose asserts about a compose stack after its flow, from the host through the
published ports: every domain's workers caught up (anonymised = raw = the events produced, DLQ empty);
no raw subject id or card number in any anonymised topic where the published policy protects it (a
consent rule keeps it, by design, for the rows that consented); the same for the records Kafka's own
console consumer printed inside the kafka container; `deid tail` decoded encrypted user ids; the UI answers.

    DEID_CATALOG_PASSWORD=… .venv/bin/python -m tests.compose.check_flow --bootstrap 127.0.0.1:PORT \
        --catalog http://127.0.0.1:PORT --events N --console channel=OUT:ERR --tail channel=OUT
Exit 0 with one line per check on stdout; exit 1 naming the first failed check on stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

from catalog.client import CatalogClient
from deid.domains import Domain, load_registry
from deid.errors import DeidError
from deid.policy import Policy
from deid.policy.rules import ConsentRule
from deid.settings import Settings
from deid.tail import read_all

# Fields whose raw values must never reach an anonymised topic, beside each domain's subject field.
SECRET_FIELDS = ("card_number",)


class CheckFailed(Exception):
    pass


def _treatment(policy: Policy, domain: Domain, field: str, event: dict) -> str:
    rule = policy.rules.get(field)
    if rule is None:
        raise CheckFailed(f"{domain.name}: the published policy has no rule for {field}")
    if isinstance(rule, ConsentRule):
        assert domain.consent is not None, f"{domain.name}: a consent rule without a consent field"
        level = domain.consent.level_of(event.get(domain.consent.field))
        rule = rule.with_consent if level >= rule.min_consent_level else rule.without_consent
    return rule.treatment


def protected_values(domain: Domain, policy: Policy, raw_values: list[bytes]) -> set[str]:
    """Raw subject ids and card numbers the policy does not keep for their row, less those it keeps in
    another row (the same person's consented event carries the id in clear, by design)."""
    fields = [f for f in (domain.subject_field, *SECRET_FIELDS) if f and f in domain.fields]
    found, kept = set(), set()
    for value in raw_values:
        event = json.loads(value)
        for name in fields:
            if event.get(name) not in (None, ""):
                keep = _treatment(policy, domain, name, event) == "keep"
                (kept if keep else found).add(str(event[name]))
    return found - kept


def _wait_caught_up(settings: Settings, domain: Domain, events: int, timeout: float) -> list[bytes]:
    """The anonymised records once there are as many as raw ones (the worker may still be catching up)."""
    deadline = time.monotonic() + timeout
    while True:
        out = [m.value() for m in read_all(settings, domain.anonymised_topic, "out")]
        if len(out) >= events or time.monotonic() > deadline:
            return out
        time.sleep(3)


def check_domain(settings: Settings, domain: Domain, policy: Policy, events: int, timeout: float) -> str:
    raw = [m.value() for m in read_all(settings, domain.raw_topic)]
    if len(raw) != events:
        raise CheckFailed(f"{domain.raw_topic}: {len(raw)} records, expected the {events} produced")
    out = _wait_caught_up(settings, domain, events, timeout)
    dlq = read_all(settings, domain.dlq_topic, "out")
    if len(out) != events or dlq:
        raise CheckFailed(
            f"{domain.name}: {events} in, {len(out)} anonymised, {len(dlq)} in the DLQ (expected {events}, {events}, 0)"
        )
    protected = protected_values(domain, policy, raw)
    joined = b"\n".join(out)
    leaked = [v for v in protected if v.encode() in joined]
    if leaked:
        raise CheckFailed(f"{domain.anonymised_topic}: {len(leaked)} protected raw ids or card numbers in clear")
    return f"{domain.name}: in {events}, anonymised {len(out)}, DLQ 0, {len(protected)} protected values absent"


def check_console(domain: Domain, protected: set[str], events: int, out: Path, err: Path) -> str:
    """Kafka's console consumer read every record (its own count, on stderr) and printed no protected value."""
    counted = re.search(r"Processed a total of (\d+) messages", err.read_text(errors="replace"))
    if counted is None or int(counted.group(1)) != events:
        seen = counted.group(0) if counted else "no count"
        raise CheckFailed(f"console consumer on {domain.anonymised_topic}: {seen!r}, not {events} records")
    printed = out.read_bytes()
    if any(value.encode() in printed for value in protected):
        raise CheckFailed(f"console consumer output of {domain.anonymised_topic} holds raw ids or card numbers")
    return f"{domain.name}: kafka-console-consumer read {events} anonymised records, no protected raw value in them"


def check_tail(domain: Domain, protected: set[str], out: Path) -> str:
    """`deid tail` decoded the anonymised records: JSON, the subject field an encrypted token."""
    records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    if not records:
        raise CheckFailed(f"deid tail {domain.anonymised_topic} printed no record")
    subject = domain.subject_field
    if subject is None or not all(":gAAAAA" in str(r.get(subject)) for r in records):
        raise CheckFailed(f"deid tail {domain.anonymised_topic}: {subject} is not an encrypted token in every record")
    if any(str(r.get(subject)) in protected for r in records):
        raise CheckFailed(f"deid tail {domain.anonymised_topic} shows a raw {subject}")
    return f"{domain.name}: deid tail decoded {len(records)} records, {subject} encrypted in each"


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
    parser.add_argument("--catalog", required=True, help="the catalog's URL on the host (DEID_CATALOG_PASSWORD)")
    parser.add_argument("--events", type=int, required=True, help="events produced per domain")
    parser.add_argument("--domain", action="append", help="domains to check (default: all)")
    parser.add_argument("--console", action="append", default=[], help="DOMAIN=OUT:ERR of the console consumer")
    parser.add_argument("--tail", action="append", default=[], help="DOMAIN=OUT of `deid tail`")
    parser.add_argument("--timeout", type=float, default=300, help="seconds the workers get to catch up")
    args = parser.parse_args(argv)
    settings = Settings(kafka_bootstrap=args.bootstrap, catalog_url=args.catalog)
    registry = load_registry()
    try:
        with CatalogClient.from_settings(settings) as client:
            policies = {name: client.latest_published_policy(name) for name in args.domain or registry.names}
        protected: dict[str, set[str]] = {}
        for name, policy in policies.items():
            if policy is None:
                raise CheckFailed(f"{name}: no published policy in the catalog")
            domain = registry.get(name)
            print(check_domain(settings, domain, policy, args.events, args.timeout), flush=True)
            raw = [m.value() for m in read_all(settings, domain.raw_topic)]
            protected[name] = protected_values(domain, policy, raw)
        for spec in args.console:
            name, _, files = spec.partition("=")
            out, _, err = files.partition(":")
            print(check_console(registry.get(name), protected[name], args.events, Path(out), Path(err)), flush=True)
        for spec in args.tail:
            name, _, out = spec.partition("=")
            print(check_tail(registry.get(name), protected[name], Path(out)), flush=True)
        print(check_ui(args.catalog), flush=True)
    except (CheckFailed, DeidError, OSError) as exc:
        print(f"check_flow: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
