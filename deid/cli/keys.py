"""`deid keys`: create, list, rotate and re-wrap the data keys (never showing their material)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from deid.cli import DeidContext, pass_deid
from deid.errors import DeidError
from deid.output import print_table

if TYPE_CHECKING:
    from pipelines.keys.audit import KeyAudit


@click.group()
def keys() -> None:
    """Manage the keystore: data keys wrapped by the master key (DEID_MASTER_KEY or DEID_MASTER_KEY_FILE)."""


@keys.command("init")
@pass_deid
def init(deid: DeidContext) -> None:
    """Create the keystore and the keys policies use (idempotent: existing keys are kept).

    Keys: `date_shift.default`, `mask.default` and `encrypt.<domain>` for every domain in the registry.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys import init_keys, open_keystore

    keystore = open_keystore(deid.settings)
    try:
        results = init_keys(keystore, deid.domains_or_seed.registry().names)
    finally:
        keystore.close()
    rows = [
        (k.name, k.key_id, k.kind, k.created.isoformat(timespec="seconds"), "created" if new else "exists")
        for k, new in results
    ]
    print_table(["name", "id", "kind", "created", "status"], rows)
    created = sum(new for _, new in results)
    click.echo(f"{created} key(s) created, {len(results) - created} already present in {deid.settings.data_dir}/keys")


@keys.command("list")
@pass_deid
def list_keys(deid: DeidContext) -> None:
    """Key names, ids, generations and creation times; per-subject keys as counts."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys import open_keystore

    keystore = open_keystore(deid.settings)
    try:
        infos = keystore.list_keys()
        active, erased = keystore.subject_key_counts()
    finally:
        keystore.close()
    rows = [(k.name, k.key_id, k.kind, k.generation, k.created.isoformat(timespec="seconds"), k.status) for k in infos]
    print_table(["name", "id", "kind", "generation", "created", "status"], rows)
    click.echo(f"per-subject keys: {active} active, {erased} erased")


@keys.command("new-master-key")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def new_master_key(path: Path) -> None:
    """Write a new master key to PATH (mode 600, outside any git repository; never overwrites).

    Then point deid at it with DEID_MASTER_KEY_FILE=PATH. Back it up: without it the keystore's keys,
    and everything encrypted with them, cannot be read.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys.master import write_new_master_key

    fingerprint = write_new_master_key(path)
    click.echo(f"wrote a new master key to {path.expanduser().absolute()} (fingerprint {fingerprint})")
    click.echo(f"use it with: export DEID_MASTER_KEY_FILE={path.expanduser().absolute()}")


@keys.command("rotate")
@click.option("--domain", "domain_name", help="Rotate only this domain's keys (default: every domain's).")
@pass_deid
def rotate(deid: DeidContext, domain_name: str | None) -> None:
    """A new generation of the domains' shared `encrypt.<domain>` and `fpe.<domain>` keys; audited (KEY_ROTATE).

    New tokens use the new key (running workers switch to it within a minute); tokens under
    older generations stay readable, since every token names its key id (an FPE token's key id is in
    the anonymised schema its record was written with). mask, date_shift and record keys
    are not rotated: their outputs are pseudonyms and offsets that must stay stable for joins. Per-subject
    keys are not rotated either (erase them with `deid subject erase`). For the master key itself:
    `deid keys new-master-key NEW`, then `deid keys rewrap --old-master-key-file OLD`.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys import KeyNotFoundError, encrypt_key_name, open_keystore
    from pipelines.keys.audit import KeyAudit
    from pipelines.transforms.encrypt_modes import fpe_key_name

    settings = deid.settings
    keystore = open_keystore(settings)
    try:
        existing = {k.name for k in keystore.list_keys()}
        if domain_name is not None:
            name = deid.domains_or_seed.get(domain_name).name
            names = [encrypt_key_name(name)]
            if fpe_key_name(name) in existing:  # created by the first fpe rule, not by `keys init`
                names.append(fpe_key_name(name))
        else:
            prefixes = (encrypt_key_name(""), fpe_key_name(""))
            names = sorted(n for n in existing if n.startswith(prefixes))
        current = []
        for name in names:
            try:
                current.append(keystore.current(name).info)
            except KeyNotFoundError:
                raise KeyNotFoundError(f"no key {name!r} to rotate; `deid keys init` creates it") from None
        if not current:
            raise KeyNotFoundError("no encrypt keys to rotate; `deid keys init` creates them")
        audit = KeyAudit.from_settings(settings, "key rotation")
        try:
            user = audit.check()
            rotated = [(old, keystore.rotate(old.name)) for old in current]
            details = {
                "keys": [
                    {"name": new.name, "key_id": new.key_id, "generation": new.generation, "previous": old.key_id}
                    for old, new in rotated
                ]
            }
            _record_or_explain(audit, "KEY_ROTATE", details, f"{len(rotated)} key(s) were rotated")
        finally:
            audit.close()
    finally:
        keystore.close()
    print_table(
        ["name", "new id", "generation", "previous id"],
        [(new.name, new.key_id, new.generation, old.key_id) for old, new in rotated],
    )
    click.echo(f"rotated {len(rotated)} key(s); audited as {user}. Older tokens stay readable by their key id.")


@keys.command("rewrap")
@click.option(
    "--old-master-key-file",
    "old_key_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A master key file the keys are still wrapped with (repeatable); or DEID_MASTER_KEY=new,old.",
)
@pass_deid
def rewrap(deid: DeidContext, old_key_files: tuple[Path, ...]) -> None:
    """Re-wrap every data key under the current master key, touching no data; audited (KEYS_REWRAP).

    After `deid keys new-master-key NEW` and pointing DEID_MASTER_KEY_FILE at NEW, run this with the old
    key (--old-master-key-file OLD). Key ids and material stay the same, so every token stays readable;
    once it reports 0 keys left on the old master key, the old key can be destroyed.
    """
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from pipelines.keys import LocalKeystore
    from pipelines.keys.audit import KeyAudit
    from pipelines.keys.master import load_key_file, load_master_key

    settings = deid.settings
    master = load_master_key(settings)
    for path in old_key_files:
        master = master.with_older(load_key_file(path, "--old-master-key-file"), f"--old-master-key-file {path}")
    keystore = LocalKeystore.open(settings, master)
    try:
        audit = KeyAudit.from_settings(settings, "re-wrap")
        try:
            user = audit.check()
            report = keystore.rewrap()
            _record_or_explain(audit, "KEYS_REWRAP", report.details(), f"{report.rewrapped} key(s) were re-wrapped")
        finally:
            audit.close()
    finally:
        keystore.close()
    moved = ", ".join(f"{n} from {fp}" for fp, n in sorted(report.rewrapped_from.items())) or "none"
    click.echo(
        f"re-wrapped {report.rewrapped} key(s) under master key {report.fingerprint} ({moved}); "
        f"{report.already_current} already under it, {report.erased} erased (nothing to wrap); audited as {user}"
    )
    click.echo("0 keys left on older master keys: they are no longer needed by this keystore.")


def _record_or_explain(audit: KeyAudit, action: str, details: dict[str, object], done: str) -> None:
    try:
        audit.record(action, details)
    except DeidError as exc:
        raise DeidError(f"{done}, but the catalog did not record it ({exc})") from None
