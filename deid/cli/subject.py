"""`deid subject`: data-subject requests; `erase` crypto-shreds one person's per-subject keys (GDPR Art. 17)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from deid.cli import DeidContext, pass_deid
from deid.errors import ConfigError, DeidError
from deid.output import print_table

if TYPE_CHECKING:
    from pipelines.keys.erasure import ErasurePlan

EXIT_NOTHING_TO_ERASE = 3
MAX_REASON = 500


@click.group()
def subject() -> None:
    """Requests about one data subject (the value of a domain's subject field, e.g. a user id)."""


@subject.command("erase")
@click.argument("subject_id")
@click.option("--domain", "domain_name", help="Erase only this domain's keys (default: every domain holding keys).")
@click.option("--reason", required=True, help="Why (e.g. a ticket number); recorded in the audit. No personal data.")
@click.option("--dry-run", is_flag=True, help="Show the keys that would be destroyed; change and audit nothing.")
@pass_deid
def erase(deid: DeidContext, subject_id: str, domain_name: str | None, reason: str, dry_run: bool) -> int:
    """Destroy SUBJECT_ID's per-subject keys: every value encrypted with them becomes unreadable everywhere.

    SUBJECT_ID is the subject field's value as it appears in events (numbers as their JSON text). Values
    written by `encrypt` with `key_scope: subject` carry the key's id; after this `deid reidentify` shows
    them as {"$erased": true}, and no key the system holds opens them. New events of the subject get a
    fresh key. Running workers stop using the old key within a minute (their key cache expires).

    Audited in the catalog as DEID_CATALOG_USER (steward or admin): SUBJECT_ERASE_REQUESTED before any key
    is touched, SUBJECT_ERASE after; ids, counts and the reason only, never the subject id. If the catalog
    cannot record it, nothing is erased.

    Exit codes: 0 keys destroyed; 3 nothing to erase (the subject has no active per-subject key: unknown,
    or already erased); 1 runtime failure (e.g. catalog unreachable: nothing erased); 2 bad option/setting.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys import open_keystore
    from pipelines.keys.audit import KeyAudit
    from pipelines.keys.erasure import erase_subject, plan_erasure

    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise click.BadParameter(f"give a reason of 1 to {MAX_REASON} characters", param_hint="--reason")
    if not subject_id.strip():
        raise click.BadParameter("the subject id is empty", param_hint="SUBJECT_ID")
    settings = deid.settings
    keystore = open_keystore(settings)
    try:
        if domain_name is not None:
            domain = deid.domains_or_seed.get(domain_name)
            if domain.subject_field is None:
                raise ConfigError(f"--domain {domain_name}: the domain has no subject field, so no per-subject keys")
            scopes = [domain.name]
        else:
            scopes = keystore.subject_scopes()
        plan = plan_erasure(keystore, subject_id, scopes)
        if dry_run:
            _show(plan, "would erase")
            return 0 if plan.active_count else EXIT_NOTHING_TO_ERASE
        audit = KeyAudit.from_settings(settings, "erasure")
        try:
            user = audit.check()
            try:
                audit.record("SUBJECT_ERASE_REQUESTED", plan.audit_details(reason))
            except DeidError as exc:
                raise DeidError(f"the catalog did not record the erasure request ({exc}); nothing was erased") from None
            if not plan.active_count:
                _nothing_to_erase(plan, scopes)
                audit.record("SUBJECT_ERASE", {**plan.audit_details(reason), "erased_key_ids": {}, "keys_erased": 0})
                return EXIT_NOTHING_TO_ERASE
            erase_subject(keystore, subject_id, plan)
            erased = sum(len(ids) for ids in plan.erased_now.values())
            details = {
                **plan.audit_details(reason),
                "erased_key_ids": plan.erased_now,
                "keys_erased": erased,
                "storage_scrubbed": plan.scrubbed,
            }
            try:
                audit.record("SUBJECT_ERASE", details)
            except DeidError as exc:
                raise DeidError(
                    f"{erased} key(s) were destroyed, but the catalog did not record the outcome ({exc}); "
                    "its SUBJECT_ERASE_REQUESTED event records the request and the key ids"
                ) from None
        finally:
            audit.close()
    finally:
        keystore.close()
    _show(plan, "erased")
    domains = ", ".join(plan.erased_now)
    registry = deid.domains_or_seed.registry()
    topics = ", ".join(
        registry.get(scope).anonymised_topic if scope in registry.names else f"{scope}-anonymised-data"
        for scope in plan.erased_now
    )
    click.echo(
        f"erased {erased} key(s) of the subject in {len(plan.erased_now)} domain(s) ({domains}); audited as {user}. "
        f"The subject's per-subject encrypted values in {topics}, its purpose topics and every copy can no "
        "longer be decrypted."
    )
    click.echo("Running workers drop the old key within 60 s; the subject's new events get a fresh key.")
    if not plan.scrubbed:
        click.echo(
            "warning: the keystore database could not drop the destroyed keys' bytes from its files yet (busy "
            "readers); it does so at its next checkpoint or vacuum. The keys are unusable already.",
            err=True,
        )
    return 0


def _show(plan: ErasurePlan, status: str) -> None:
    rows = []
    for scope in plan.scopes:
        now = set(plan.erased_now.get(scope.scope, []))
        for key in scope.keys:
            if key.erased is not None and key.key_id not in now:
                state = f"erased earlier ({key.erased.isoformat(timespec='seconds')})"
            else:
                state = status
            rows.append((scope.scope, key.key_id, key.generation, key.created.isoformat(timespec="seconds"), state))
    if rows:
        print_table(["domain", "key id", "generation", "created", "status"], rows)


def _nothing_to_erase(plan: ErasurePlan, scopes: list[str]) -> None:
    where = ", ".join(scopes) or "no domain (the keystore holds no per-subject keys)"
    if plan.known:
        _show(plan, "erased")
        click.echo(f"nothing to erase: the subject's keys in {where} were already erased", err=True)
    else:
        click.echo(
            f"nothing to erase: no per-subject key for this subject in {where} (unknown subject, or its values "
            "were never encrypted with key_scope: subject)",
            err=True,
        )


def _consent_ledger_for(deid: DeidContext, domain_name: str) -> tuple[Any, Any]:
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.consent import ConsentLedger
    from pipelines.keys import open_keystore

    domain = deid.domains_or_seed.get(domain_name)
    if domain.consent is None or domain.consent.scope != "subject":
        raise ConfigError(
            f"--domain {domain_name}: its consent is not subject-level (set consent.scope: subject in the domain)"
        )
    keystore = open_keystore(deid.settings)
    return keystore, ConsentLedger.of(keystore, domain.name)


@subject.command("withdraw")
@click.argument("subject_id")
@click.option("--domain", "domain_name", required=True, help="The domain whose consent is subject-level.")
@click.option("--level", type=click.IntRange(0, 1000), default=0, show_default=True, help="The consent level left.")
@pass_deid
def withdraw(deid: DeidContext, subject_id: str, domain_name: str, level: int) -> int:
    """Record SUBJECT_ID's opt-out without an event: every later row is treated at most at --level.

    Running workers apply it from their next batch. Sticky until `deid subject grant`. Exit codes: 0
    recorded; 2 bad option, or a domain whose consent is per row.
    """
    if not subject_id.strip():
        raise click.BadParameter("the subject id is empty", param_hint="SUBJECT_ID")
    keystore, ledger = _consent_ledger_for(deid, domain_name)
    try:
        ledger.withdraw(subject_id, level)
    finally:
        keystore.close()
    click.echo(f"{domain_name}: consent of the subject capped at level {level} from the next batch on")
    return 0


@subject.command("grant")
@click.argument("subject_id")
@click.option("--domain", "domain_name", required=True, help="The domain whose consent is subject-level.")
@click.option("--reason", required=True, help="Why (e.g. the consent record's id); audited. No personal data.")
@pass_deid
def grant(deid: DeidContext, subject_id: str, domain_name: str, reason: str) -> int:
    """Record SUBJECT_ID's explicit opt-in, newer than any opt-out: rows' own consent decides again.

    Audited in the catalog (SUBJECT_CONSENT_GRANT, with the subject's keyed hash, never the id); if the
    catalog cannot record it, nothing changes. Exit codes: 0 recorded; 1 catalog unreachable; 2 bad option.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys.audit import KeyAudit

    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise click.BadParameter(f"give a reason of 1 to {MAX_REASON} characters", param_hint="--reason")
    keystore, ledger = _consent_ledger_for(deid, domain_name)
    try:
        audit = KeyAudit.from_settings(deid.settings, "consent")
        try:
            user = audit.check()
            details = {"domain": domain_name, "subject_ref": ledger.ref(subject_id), "reason": reason}
            audit.record("SUBJECT_CONSENT_GRANT", details)
        finally:
            audit.close()
        ledger.grant(subject_id)
    finally:
        keystore.close()
    click.echo(f"{domain_name}: the subject's opt-out is lifted (audited as {user}); rows' own consent decides again")
    return 0
