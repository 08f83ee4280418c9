"""`deid domains list|show|add|import`: the catalog's domain registry.

The catalog owns the domains; these commands read and write them through its API as the configured user
(stewards and admins may write; every change is audited as that user). `list` and `show` fall back to
the seed (deid/domains.yaml + DEID_CONFIG) when the catalog cannot be reached, and say so.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from catalog.client import CatalogClient, CatalogUnavailable, Unauthorized
from deid.cli import DeidContext, pass_deid
from deid.domains import Domain, DomainError, load_registry, parse_domain, parse_domains
from deid.errors import ConfigError
from deid.output import print_table


@click.group()
def domains() -> None:
    """List, show, add and import domains (event families) in the catalog."""


def _client(deid: DeidContext) -> CatalogClient:
    return CatalogClient.from_settings(deid.settings, retries=2, timeout=15)


def _when(ms: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000)) if ms else "-"


def _seed_entry(domain: Domain) -> dict[str, Any]:
    return {
        "name": domain.name,
        "definition": domain.to_document(),
        "topics": {"raw": domain.raw_topic, "anonymised": domain.anonymised_topic, "dlq": domain.dlq_topic},
    }


def _entries(deid: DeidContext) -> list[dict[str, Any]]:
    try:
        with _client(deid) as client:
            return client.list_domains()
    except (CatalogUnavailable, Unauthorized, ConfigError) as exc:  # ConfigError: no catalog credentials here
        click.echo(f"deid: warning: cannot read the catalog's domains ({exc}); showing the seed", err=True)
        return [_seed_entry(d) for d in load_registry(deid.settings)]


@domains.command("list")
@pass_deid
def list_domains(deid: DeidContext) -> None:
    """One line per domain: subject, consent and event-time fields, raw topic, who changed it last and when."""
    rows = []
    for entry in _entries(deid):
        d = entry["definition"]
        rows.append(
            (
                entry["name"],
                d.get("subject_field") or "-",
                (d.get("consent") or {}).get("field") or "-",
                d.get("event_time_field") or "-",
                len(d.get("fields") or {}),
                entry["topics"]["raw"],
                entry.get("updated_by") or "(seed file)",
                _when(entry.get("updated_at")),
            )
        )
    print_table(["domain", "subject", "consent", "event time", "fields", "raw topic", "updated by", "updated"], rows)


@domains.command("show")
@click.argument("name")
@pass_deid
def show_domain(deid: DeidContext, name: str) -> None:
    """Print one domain's full definition, topics and who/when as JSON."""
    entries = {e["name"]: e for e in _entries(deid)}
    if name not in entries:
        raise DomainError(f"unknown domain {name!r}; known domains: {', '.join(sorted(entries)) or 'none'}")
    entry = entries[name]
    body = {"name": name, **entry["definition"], **{k: v for k, v in entry.items() if k not in {"name", "definition"}}}
    click.echo(json.dumps(body, indent=2))


def _read(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML or JSON ({exc.__class__.__name__}); fix the file") from None


def _put(deid: DeidContext, domains_to_put: list[Domain]) -> None:
    with _client(deid) as client:
        for domain in domains_to_put:
            result = client.put_domain(domain)
            what = "created" if result["created"] else "updated" if result["changed"] else "unchanged"
            click.echo(f"{domain.name}: {what} (topics {', '.join(domain.topics)}) by {result['updated_by']}")


@domains.command("add")
@click.argument("name")
@click.argument("definition", metavar="FILE")
@pass_deid
def add_domain(deid: DeidContext, name: str, definition: str) -> None:
    """Create or replace domain NAME from FILE (YAML or JSON, `-` for stdin): one definition, the shape of a
    `domains:` entry of deid/domains.yaml (fields, subject_field, event_time_field, consent, …).

    Usable at once by inference, `deid policy` and new workers; create its topics with
    `deid topics create -d NAME`."""
    _put(deid, [parse_domain(name, _read(definition), definition)])


@domains.command("import")
@click.argument("path", metavar="FILE")
@pass_deid
def import_domains(deid: DeidContext, path: str) -> None:
    """Create or replace every domain of FILE: a `domains:` mapping, like deid/domains.yaml."""
    document = _read(path)
    if not isinstance(document, dict) or "domains" not in document:
        raise DomainError(f"{path}: expected a top-level 'domains:' mapping of name to definition")
    _put(deid, list(parse_domains(document["domains"], path).values()))
