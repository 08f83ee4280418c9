"""`deid keys`: create and list the data keys (never their material)."""

from __future__ import annotations

from pathlib import Path

import click

from deid.cli import DeidContext, pass_deid
from deid.cli.output import print_table
from deid.domains import load_registry


@click.group()
def keys() -> None:
    """Manage the keystore: data keys wrapped by the master key (DEID_MASTER_KEY or DEID_MASTER_KEY_FILE)."""


@keys.command("init")
@pass_deid
def init(deid: DeidContext) -> None:
    """Create the keystore and the keys policies use (idempotent: existing keys are kept).

    Keys: `date_shift.default`, `mask.default` and `encrypt.<domain>` for every domain in the registry.
    """
    from pipelines.keys import init_keys, open_keystore

    keystore = open_keystore(deid.settings)
    try:
        results = init_keys(keystore, load_registry(deid.settings).names)
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
    from pipelines.keys.master import write_new_master_key

    fingerprint = write_new_master_key(path)
    click.echo(f"wrote a new master key to {path.expanduser().absolute()} (fingerprint {fingerprint})")
    click.echo(f"use it with: export DEID_MASTER_KEY_FILE={path.expanduser().absolute()}")
