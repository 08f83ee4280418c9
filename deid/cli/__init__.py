"""The `deid` command line: one group, subcommands loaded lazily so `deid --help` stays fast.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error, 3 a service not running
(`deid stack status`), 130 interrupted.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from functools import cached_property

import click

from deid import __version__
from deid.domains import DomainSource
from deid.errors import DeidError
from deid.settings import Settings, load_settings

# name -> "module:attribute"; later parts of deid register their commands here.
COMMANDS: dict[str, str] = {
    "batch": "deid.cli.batch:batch",
    "catalog": "deid.cli.catalog:catalog",
    "config": "deid.cli.config:config",
    "demo": "deid.cli.demo:demo",
    "domains": "deid.cli.domains:domains",
    "infer": "deid.cli.infer:infer",
    "keys": "deid.cli.keys:keys",
    "pipeline": "deid.cli.pipeline:pipeline",
    "policy": "deid.cli.policy:policy",
    "produce": "deid.cli.produce:produce",
    "reidentify": "deid.cli.reidentify:reidentify",
    "risk": "deid.cli.risk:risk",
    "stack": "deid.cli.stack:stack",
    "subject": "deid.cli.subject:subject",
    "tail": "deid.cli.tail:tail_command",
    "topics": "deid.cli.topics:topics",
}


class DeidContext:
    """Per-invocation state; settings are loaded on first use so `--help` works with bad settings."""

    @cached_property
    def settings(self) -> Settings:
        # start-up: logging is configured only by commands that load settings, never by `--help`
        from deid.logs import configure_logging

        settings = load_settings()
        configure_logging(settings.log_level)
        return settings

    @cached_property
    def domains(self) -> DomainSource:
        """The catalog's domains (workers, inference, policy commands): cached, an unknown name asks again."""
        # start-up: the catalog client is loaded only by commands that read domains
        from catalog.client import CatalogClient
        from catalog.domain_api import CatalogDomains

        return CatalogDomains(connect=lambda: CatalogClient.from_settings(self.settings, retries=2, timeout=15))

    @cached_property
    def domains_or_seed(self) -> DomainSource:
        """The catalog's domains, else the seed (deid/domains.yaml + DEID_CONFIG): for producers, topic
        creation and listings, which may run before or away from the catalog."""
        # start-up: as above
        from deid.domains import FallbackDomains, load_registry

        warn = logging.getLogger("deid.domains").warning
        return FallbackDomains(self.domains, load_registry(self.settings), warn=warn)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deid")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """deid: find personal data in Kafka streams, let a steward decide, de-identify continuously.

    Settings come from DEID_* environment variables and the YAML file named by DEID_CONFIG
    (see `deid config`).
    """
    ctx.obj = DeidContext()


pass_deid = click.make_pass_decorator(DeidContext)

# `--out` on any command that talks to Kafka: passes side="out" (anonymised cluster) or "raw".
side_option = click.option(
    "--out",
    "side",
    is_flag=True,
    callback=lambda _ctx, _param, out: "out" if out else "raw",
    help="Use the anonymised-side cluster (DEID_KAFKA_BOOTSTRAP_OUT) instead of the raw side.",
)


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="deid", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("deid: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except DeidError as exc:
        click.echo(f"deid: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("deid: interrupted", err=True)
        return 130
    except Exception as exc:
        # Exception messages can carry record values; show the traceback only when asked for.
        if os.environ.get("DEID_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        click.echo(f"deid: error: {unexpected_error_line(exc)}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def unexpected_error_line(exc: BaseException) -> str:
    """One line for an error no command turned into a DeidError: what failed and what to do, no values.

    Kafka's and the OS's own messages name codes, brokers and paths (never record values); anything else
    is named by its kind only."""
    kind = type(exc)
    module = kind.__module__.split(".")[0]
    if module in {"confluent_kafka", "cimpl"}:
        error = exc.args[0] if exc.args else None
        name = error.name() if hasattr(error, "name") else kind.__name__
        reason = error.str() if hasattr(error, "str") else ""
        return (
            f"Kafka refused or failed ({name}: {reason}); check DEID_KAFKA_BOOTSTRAP and that the broker is up, "
            "then run the command again"
        )
    if module in {"requests", "urllib3"} or isinstance(exc, ConnectionError):
        return "a server did not answer (the catalog or the registry?); check DEID_CATALOG_URL and run again"
    if isinstance(exc, PermissionError | FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return f"{exc.strerror or kind.__name__}: {exc.filename}; fix the path or its permissions and run again"
    if isinstance(exc, OSError):
        return f"the system refused an operation ({exc.strerror or kind.__name__}); check disk space and limits"
    if isinstance(exc, MemoryError):
        return "out of memory; give the process more memory or lower its batch size (--batch-size)"
    return (
        f"unexpected {kind.__name__} (a bug in deid); run again with DEID_LOG_LEVEL=DEBUG and report the "
        "traceback"
    )


if __name__ == "__main__":
    sys.exit(main())
