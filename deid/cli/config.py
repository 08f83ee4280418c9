"""`deid config`: the settings in force, secrets hidden."""

from __future__ import annotations

import json
import re

import click

from deid.cli import DeidContext, pass_deid
from deid.output import print_table
from deid.settings import ENV_PREFIX, Settings

_SECRET_KEY = re.compile(r"(password|secret|key|token|jaas|credential)", re.IGNORECASE)


def _hide_userinfo(url: str) -> str:
    return re.sub(r"//[^/@]+@", "//***@", url)


def effective_settings(settings: Settings) -> dict[str, object]:
    """Settings as shown to a user: derived defaults resolved, secrets replaced by ***."""
    shown: dict[str, object] = {
        "kafka_bootstrap": settings.kafka_bootstrap,
        "kafka_bootstrap_out": settings.bootstrap_out,
        "catalog_url": _hide_userinfo(settings.catalog_url),
        "schema_registry_url": _hide_userinfo(settings.registry_url),
        "catalog_db": _hide_userinfo(settings.catalog_db_url),
        "catalog_mode": settings.catalog_mode,
        "catalog_user": settings.catalog_user or "admin",
        "catalog_password": "***" if settings.catalog_password else None,
        "admin_password": "***" if settings.admin_password else None,
        "data_dir": str(settings.data_dir),
        "cluster": settings.cluster,
        "kafka_home": str(settings.kafka_install_dir),
        "kafka_controller_port": settings.kafka_controller_port,
        "kafka_heap": settings.kafka_heap,
        "log_level": settings.log_level,
        "master_key": "***" if settings.master_key is not None else None,
        "master_key_file": str(settings.master_key_file) if settings.master_key_file else None,
        "keystore_url": _hide_userinfo(settings.keystore_url)
        if settings.keystore_url
        else f"sqlite:///{(settings.data_dir / 'keys' / 'keystore.db').resolve()}",
        "nlp_engine": settings.nlp_engine,
        "recognizer_dirs": [str(folder) for folder in settings.recognizer_dirs],
    }
    for name in ("kafka_properties", "kafka_properties_out"):
        props = getattr(settings, name)
        shown[name] = {k: "***" if _SECRET_KEY.search(k) else v for k, v in props.items()}
    shown["domains_overridden"] = sorted(settings.domains)
    return shown


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
@pass_deid
def config(deid: DeidContext, as_json: bool) -> None:
    """Show the settings in force (environment over config file over defaults)."""
    shown = effective_settings(deid.settings)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    rows = [
        (f"{ENV_PREFIX}{k.upper()}", k, json.dumps(v) if isinstance(v, dict | list) else v) for k, v in shown.items()
    ]
    print_table(["variable", "key", "value"], rows)
