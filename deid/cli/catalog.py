"""`deid catalog`: serve the catalog (Atlas v2-compatible API) and manage its users."""

from __future__ import annotations

import getpass
import sys
from urllib.parse import urlsplit

import click

from deid.cli import DeidContext, pass_deid
from deid.errors import ConfigError, DeidError

ROLES = ("viewer", "steward", "admin")


def url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _cli_actor() -> str:
    """Who CLI user changes are audited as."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(confirm: bool = True) -> str:
    """The new password: first line of stdin when piped, else prompted twice without echo."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("no password on stdin (give it as the first line)")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _users(deid: DeidContext):  # type: ignore[no-untyped-def]
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.server.users import UserService
    from catalog.store.db import Store
    from catalog.store.migrate import upgrade

    store = Store(deid.settings.catalog_db_url)
    upgrade(store)
    return UserService(store)


def _run(action):  # type: ignore[no-untyped-def]
    """Turn the catalog's API errors into CLI errors (exit 2: they are usage problems)."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.server.errors import AtlasError

    try:
        return action()
    except AtlasError as exc:
        raise ConfigError(exc.message) from None


@click.group()
def catalog() -> None:
    """The catalog: an Apache Atlas v2-compatible metadata service (typedefs, entities, PII tags,
    policies, lineage, audit) with users in roles viewer, steward and admin.

    State lives in DEID_CATALOG_DB (default: SQLite in DEID_DATA_DIR/catalog); `deid stack up` runs it.
    """


@catalog.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: the port of DEID_CATALOG_URL, 21000)."
)
@pass_deid
def serve(deid: DeidContext, host: str, port: int | None) -> None:
    """Run the catalog in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.server.app import create_app, initialize
    from catalog.server.runner import serve_app
    from catalog.store.db import Store, safe_url
    from deid.stack.process import port_in_use

    settings = deid.settings
    port = port or url_port(settings.catalog_url)
    if port_in_use(host, port):
        raise DeidError(f"port {port} on {host} is already in use; stop that process or pass --port")
    store = Store(settings.catalog_db_url)
    context = initialize(settings, store)
    _tell_admin(context.initial_admin)
    app = create_app(settings, context=context)
    click.echo(f"catalog: serving http://{host}:{port} (database {safe_url(store.url)})", err=True)
    click.echo(f"catalog: steward UI at http://{host}:{port}/ (log in with a catalog user)", err=True)
    debug = settings.log_level == "DEBUG"
    # No access log unless debugging: query strings can carry search terms a steward typed.
    serve_app(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=debug)
    click.echo("catalog: stopped", err=True)


def _tell_admin(initial_admin) -> None:  # type: ignore[no-untyped-def]
    if initial_admin is None or not initial_admin.created:
        return
    if initial_admin.password_file is not None:
        click.echo(
            f"catalog: created user 'admin'; its password is in {initial_admin.password_file} (mode 600)", err=True
        )
    else:
        click.echo("catalog: created user 'admin' with the password from DEID_ADMIN_PASSWORD", err=True)


@catalog.command()
@pass_deid
def init(deid: DeidContext) -> None:
    """Create or upgrade the catalog's database, typedefs and admin user, then exit."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.server.app import initialize
    from catalog.store.db import Store, safe_url

    store = Store(deid.settings.catalog_db_url)
    context = initialize(deid.settings, store)
    _tell_admin(context.initial_admin)
    click.echo(f"catalog: database {safe_url(store.url)} is ready")


@catalog.group()
def user() -> None:
    """Catalog users: viewer (read), steward (classify, edit policies), admin (typedefs, users).

    Works on the database directly (DEID_CATALOG_DB), so it also works before the first start.
    Passwords are read from stdin when piped (first line), else prompted.
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@pass_deid
def user_add(deid: DeidContext, name: str, role: str) -> None:
    """Add a user."""
    users = _users(deid)
    password = _read_password()
    _run(lambda: users.add(name, password, role, _cli_actor()))  # type: ignore[arg-type]
    click.echo(f"added {name} ({role})")


@user.command("passwd")
@click.argument("name")
@pass_deid
def user_passwd(deid: DeidContext, name: str) -> None:
    """Set a user's password."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from catalog.server.users import ADMIN, write_secret_file

    users = _users(deid)
    password = _read_password()
    _run(lambda: users.update(name, _cli_actor(), password=password))
    click.echo(f"password of {name} changed")
    path = deid.settings.admin_password_file
    if name == ADMIN and path.is_file():
        # Keep the embedded default working: clients read admin's password from this file.
        write_secret_file(path, password)
        click.echo(f"updated {path.resolve()}")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@pass_deid
def user_role(deid: DeidContext, name: str, role: str) -> None:
    """Change a user's role."""
    users = _users(deid)
    _run(lambda: users.update(name, _cli_actor(), role=role))  # type: ignore[arg-type]
    click.echo(f"{name} is now {role}")


@user.command("remove")
@click.argument("name")
@pass_deid
def user_remove(deid: DeidContext, name: str) -> None:
    """Remove a user."""
    users = _users(deid)
    _run(lambda: users.remove(name, _cli_actor()))
    click.echo(f"removed {name}")


@user.command("list")
@pass_deid
def user_list(deid: DeidContext) -> None:
    """List users and roles."""
    # start-up: imported when the command runs, so `deid --help` and the other commands stay fast
    from deid.output import print_table

    print_table(["name", "role"], [(u["name"], u["role"]) for u in _users(deid).list()])
