"""`deid reidentify DOMAIN`: decrypt the encrypt-treated fields of anonymised records, for an authorised user."""

from __future__ import annotations

import json
import sys

import click

from deid.cli import DeidContext, pass_deid
from deid.errors import DeidError


@click.command("reidentify")
@click.argument("domain_name", metavar="DOMAIN")
@click.option(
    "--fields",
    help="Comma-separated encrypted field paths to decrypt (default: every encrypted field); others stay as they are.",
)
@click.option(
    "--to-topic",
    help="Write the re-identified records (JSON) to this existing RAW-side topic: they hold personal data again.",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print JSON lines on stdout (the default).")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest record, not the newest.")
@click.option("--max", "max_records", type=click.IntRange(min=1), help="Stop after N records.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Stop after S seconds without a new record.")
@click.option("--with-meta", is_flag=True, help="Print each as {event_id, partition, offset, value}.")
@pass_deid
def reidentify(
    deid: DeidContext,
    domain_name: str,
    fields: str | None,
    to_topic: str | None,
    to_stdout: bool,
    from_beginning: bool,
    max_records: int | None,
    timeout: float | None,
    with_meta: bool,
) -> None:
    """Read <domain>-anonymised-data (committed records only), decrypt encrypted fields with the keystore.

    Needs the catalog role steward or admin (as the configured catalog user) and the keystore's master key
    (DEID_MASTER_KEY or DEID_MASTER_KEY_FILE); every run is audited in the catalog before and after.
    A value whose subject was erased prints as {"$erased": true}; a token no key opens as {"$undecryptable": "<why>"}.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.events import EVENT_ID_HEADER
    from deid.kafka import make_producer, make_registry_client, reachable_admin
    from deid.tail import TailOptions, tail
    from pipelines.catalog_binding import CatalogAuditSink, CatalogAuthorizer, catalog_client
    from pipelines.keys import open_keystore
    from pipelines.reidentify import LocalKeyAuthorizer, Reidentifier

    if to_topic and to_stdout:
        raise click.UsageError("--to-topic and --stdout exclude each other")
    settings = deid.settings
    domain = deid.domains_or_seed.get(domain_name)
    selected = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    keystore = open_keystore(settings)
    client = catalog_client(settings)
    audit = CatalogAuditSink(client)
    try:
        asked = selected or ["(all encrypted fields)"]
        user = CatalogAuthorizer(client).authorize(domain.name, asked)
        LocalKeyAuthorizer(keystore).authorize(domain.name, asked)  # and the master key must open the keystore
        reidentifier = Reidentifier(keystore, lambda: make_registry_client(settings), domain.name, selected)
        reidentifier.check_fields(f"{domain.anonymised_topic}-value")
        reachable_admin(settings, "out")
        producer = None
        if to_topic:
            raw_admin = reachable_admin(settings, "raw")
            if to_topic not in raw_admin.list_topics(timeout=10).topics:
                raise DeidError(f"topic {to_topic!r} does not exist on the raw side; create it first")
            producer = make_producer(settings, "raw", **{"enable.idempotence": True})
        options = TailOptions(domain.anonymised_topic, from_beginning, max_records, timeout, "out")
        audit.reidentification_started(domain.name, asked, to_topic or "stdout")
        try:
            for message in tail(settings, options):
                record = reidentifier(message.value())
                headers = dict(message.headers() or [])
                event_id = headers.get(EVENT_ID_HEADER)
                if producer is not None:
                    out_headers = [(EVENT_ID_HEADER, event_id)] if event_id is not None else []
                    producer.produce(to_topic, json.dumps(record, ensure_ascii=False).encode(), headers=out_headers)
                    producer.poll(0)
                    continue
                if with_meta:
                    record = {
                        "event_id": event_id.decode() if event_id else None,
                        "partition": message.partition(),
                        "offset": message.offset(),
                        "value": record,
                    }
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                sys.stdout.flush()
        finally:
            undelivered = producer.flush(30) if producer is not None else 0
            stats, destination = reidentifier.stats, to_topic or "stdout"
            audit.reidentified(user, domain.name, sorted(stats.fields), stats.records, destination)
    finally:
        keystore.close()
    if undelivered:
        raise DeidError(f"{undelivered} re-identified record(s) were not delivered to {to_topic}")
    click.echo(
        f"{stats.records} record(s) from {domain.anonymised_topic} to {destination}: {stats.decrypted} value(s) "
        f"decrypted, {stats.erased} erased, {stats.undecryptable} undecryptable",
        err=True,
    )
