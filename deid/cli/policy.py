"""`deid policy show|approve|publish|export|import DOMAIN`: policy as code over the catalog's policy API.

Every call goes to the catalog as the configured user (DEID_CATALOG_USER / DEID_CATALOG_PASSWORD, default the
embedded admin), so the catalog's roles apply (viewers read, stewards write) and its audit names that user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from deid.cli import DeidContext, pass_deid
from deid.errors import ConfigError
from deid.output import print_table

if TYPE_CHECKING:
    from catalog.client import CatalogClient
    from deid.domains import Domain
    from deid.policy import Policy


@click.group("policy")
def policy() -> None:
    """Review, approve, publish and version a domain's de-identification policy (policy as code)."""


@contextmanager
def _client(deid: DeidContext) -> Iterator[CatalogClient]:
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.client import CatalogClient

    client = CatalogClient.from_settings(deid.settings)
    try:
        yield client
    finally:
        client.close()


def _domain(deid: DeidContext, name: str) -> Domain:
    return deid.domains.get(name)


def _rule_text(rule: Any) -> str:
    """A rule in a table cell: its treatment (with the entities of anonymize_text); `--json` has the params."""
    if rule is None:
        return ""
    if isinstance(rule, dict) and "treatment" in rule:
        entities = (rule.get("params") or {}).get("entities")
        text = f"{rule['treatment']}({','.join(entities)})" if entities else str(rule["treatment"])
        exemption = rule.get("exemption")
        # A PII field kept in clear shows why, and who allowed it.
        return f"{text} [exempt: {exemption.get('reason')} — {exemption.get('by') or '?'}]" if exemption else text
    return "consent: " + " / ".join(_rule_text(rule.get(k)) for k in ("with_consent", "without_consent"))


@policy.command("show")
@click.argument("domain_name", metavar="DOMAIN")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the table.")
@pass_deid
def show(deid: DeidContext, domain_name: str, as_json: bool) -> None:
    """Show DOMAIN's field tags, draft and published policy side by side."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.review import topic_fields

    domain = _domain(deid, domain_name)
    with _client(deid) as client:
        draft = client.get_policy_draft(domain.name)
        published = client.latest_published_policy(domain.name)
        versions = client.policy_versions(domain.name) if published is not None else []
        tags = {field.path: field.tag for field in topic_fields(client, domain.raw_topic, deid.settings.cluster)}
    draft_rules = (draft or {}).get("policy", {}).get("rules", {})
    published_doc = published.to_document() if published is not None else None
    published_rules = (published_doc or {}).get("rules", {})
    steward_paths = set((draft or {}).get("steward_paths") or [])
    paths = sorted(set(domain.fields) | set(tags) | set(draft_rules) | set(published_rules))
    if as_json:
        document = {
            "domain": domain.name,
            "draft": (draft or {}).get("policy"),
            "steward_paths": sorted(steward_paths),
            "published": published_doc,
            "published_version": published.version if published is not None else None,
            "versions": versions,
            "fields": [
                {
                    "path": path,
                    "entity": tags[path].entity if path in tags else None,
                    "status": tags[path].status if path in tags else None,
                    "confidence": tags[path].confidence if path in tags else None,
                    "entities": tags[path].entities if path in tags else [],
                }
                for path in paths
            ],
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    rows = []
    for path in paths:
        tag = tags.get(path)
        rows.append(
            (
                path,
                tag.entity if tag else "",
                tag.status if tag else "",
                f"{tag.confidence:.2f}" if tag and tag.confidence else "",
                _rule_text(draft_rules.get(path)) + (" *" if path in steward_paths else ""),
                _rule_text(published_rules.get(path)),
            )
        )
    version = f"v{published.version}" if published is not None else "none"
    print_table(("field", "tag", "status", "confidence", "draft", f"published ({version})"), rows)
    if draft is None:
        click.echo(f"\nno draft policy for {domain.name} yet: run `deid infer {domain.name}` or `deid policy import`")
    else:
        click.echo(f"\ndraft updated {draft.get('updated_at')} by {draft.get('updated_by')}; * = set by a steward")


@policy.command("approve")
@click.argument("domain_name", metavar="DOMAIN")
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Confirm the suggested tags at or above this confidence.",
)
@pass_deid
def approve(deid: DeidContext, domain_name: str, min_confidence: float) -> None:
    """Confirm DOMAIN's suggested field tags whose confidence is at least --min-confidence.

    Each confirmation is audited by the catalog as the calling user; steward decisions are not touched.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.review import approve_suggestions, topic_fields

    domain = _domain(deid, domain_name)
    cluster = deid.settings.cluster
    with _client(deid) as client:
        suggested = {f.path: f.tag for f in topic_fields(client, domain.raw_topic, cluster) if f.tag.needs_review}
        approved = set(approve_suggestions(client, domain.name, cluster, min_confidence))
    rows = {path: (path, tag.entity, f"{tag.confidence:.2f}") for path, tag in suggested.items()}
    confirmed = [rows[path] for path in sorted(approved)]
    left = [row for path, row in rows.items() if path not in approved]
    if not confirmed and not left:
        click.echo(f"{domain.name}: no suggested tags to approve (run `deid infer {domain.name}` first?)")
        return
    if confirmed:
        print_table(("confirmed", "tag", "confidence"), confirmed)
    if left:
        click.echo("")
        print_table((f"left for review (< {min_confidence:g})", "tag", "confidence"), left)
    click.echo(f"\n{domain.name}: {len(confirmed)} tag(s) confirmed as {client.user}, {len(left)} left for review")


@policy.command("publish")
@click.argument("domain_name", metavar="DOMAIN")
@pass_deid
def publish(deid: DeidContext, domain_name: str) -> None:
    """Publish DOMAIN's draft as the next version (running workers pick it up); an unchanged draft
    publishes nothing."""
    domain = _domain(deid, domain_name)
    with _client(deid) as client:
        answer = client.publish_policy(domain.name)
    if answer.get("changed"):
        click.echo(f"{domain.name}: published policy v{answer['version']}")
    else:
        click.echo(f"{domain.name}: the draft equals v{answer['version']}; nothing published")


@policy.command("export")
@click.argument("domain_name", metavar="DOMAIN")
@click.option("--published", "which", flag_value="published", help="The latest published version.")
@click.option("--draft", "which", flag_value="draft", default=True, help="The draft (default).")
@click.option("--version", "version", type=click.IntRange(min=1), help="This published version.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
@pass_deid
def export(deid: DeidContext, domain_name: str, which: str, version: int | None, as_json: bool) -> None:
    """Print DOMAIN's policy (draft by default) as YAML, e.g. `deid policy export channel > policy.yaml`."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.errors import DeidError
    from deid.policy import Policy

    domain = _domain(deid, domain_name)
    with _client(deid) as client:
        found: Policy | None
        if version is not None:
            found, what = client.get_policy_version(domain.name, version), f"version {version}"
        elif which == "published":
            found, what = client.latest_published_policy(domain.name), "published version"
        else:
            draft = client.get_policy_draft(domain.name)
            found = None if draft is None else Policy.from_document(draft["policy"], f"draft of {domain.name}")
            what = "draft"
    if found is None:
        raise DeidError(f"{domain.name} has no {what} policy in the catalog")
    click.echo(found.to_json() if as_json else found.to_yaml(), nl=as_json)


@policy.command("import")
@click.argument("domain_name", metavar="DOMAIN")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@pass_deid
def import_(deid: DeidContext, domain_name: str, path: Path) -> None:
    """Replace DOMAIN's draft with the policy in FILE (YAML or .json), checked first: an unknown field,
    treatment or parameter is an error naming it (exit 2). Every rule then counts as a steward's."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.policy import check_policy

    domain = _domain(deid, domain_name)
    loaded = _load(path)
    if loaded.domain != domain.name:
        raise ConfigError(f"{path}: domain: the file is a policy of {loaded.domain!r}, not {domain.name!r}")
    check_policy(loaded, domain, source=str(path))
    draft = loaded.model_copy(update={"status": "draft", "version": 0})
    with _client(deid) as client:
        client.put_policy_draft(domain.name, draft)
    click.echo(
        f"{domain.name}: draft replaced from {path} ({len(draft.rules)} rules); `deid policy publish {domain.name}`"
    )


def _load(path: Path) -> Policy:
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.policy import Policy

    if not path.is_file():
        raise ConfigError(f"{path}: no such policy file")
    return Policy.load(path)
