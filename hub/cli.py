"""`hub`: the command line. Each domain adds its own group of commands here."""

import sys
from pathlib import Path

import typer

from hub.accounts.cli import agencies_app, users_app
from hub.audit.cli import audit_app
from hub.db import SchemaBehind, check_schema_current, get_engine, migrate
from hub.demo.cli import demo_command
from hub.hearings.cli import calendar_app
from hub.identity.cli import oidc_app
from hub.mail.cli import mail_app
from hub.notifications.cli import notifications_app
from hub.referrals.cli import site_app
from hub.settings import get_settings
from hub.witness.cli import witness_app

app = typer.Typer(
    help="Diversion Hub: the shared system of a pre-booking diversion program.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Generate and rotate the secrets the hub needs.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
agencies_app.add_typer(oidc_app, name="oidc")
app.add_typer(agencies_app, name="agencies")


def _policy_app() -> typer.Typer:
    from hub.disclosure.cli import policy_app

    return policy_app


app.add_typer(_policy_app(), name="policy")
app.command("demo")(demo_command)
app.add_typer(site_app, name="site")
app.add_typer(notifications_app, name="notifications")
app.add_typer(audit_app, name="audit")
app.add_typer(witness_app, name="witness")
app.add_typer(mail_app, name="mail")
app.add_typer(calendar_app, name="calendar")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database (HUB_DATABASE_URL) to the newest schema."""
    migrate()
    typer.echo("The database schema is current.")


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (see deploy/README.md)."),
) -> None:
    """Serve the hub with uvicorn. Refuses a database whose schema is behind."""
    import uvicorn

    from hub.logs import logging_config

    try:
        check_schema_current(get_engine())
    except SchemaBehind as exc:
        fail(str(exc))
    uvicorn.run(
        "hub.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_config=logging_config(),  # no exception's message in the log (hub.logs)
    )


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a fresh set of secrets as environment variables, for a new installation."""
    from hub.crypto import generate_environment

    for name, value in generate_environment().items():
        typer.echo(f"{name}={value}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-seal every value sealed at rest under the first key of HUB_DATA_KEYS (idempotent).
    See deploy/README.md, Rotating the data keys."""
    import uuid

    from hub.audit.log import Actor
    from hub.keyrotation import rotate_data_keys

    check_schema_current(get_engine())
    counts = rotate_data_keys(
        get_engine(), Actor(request_id=f"cli-{uuid.uuid4().hex[:12]}", address="cli")
    )
    for name, count in counts.items():
        typer.echo(f"{name}: {count} re-sealed")
    typer.echo(f"Every sealed value is now under the first key ({sum(counts.values())} changed).")


@app.command("backup")
def backup_command(
    directory: Path = typer.Argument(..., help="A new (or empty) directory for the backup."),
) -> None:
    """Back up the PostgreSQL database (pg_dump), the pushed checkpoints and a manifest of the
    key identifiers (never the keys). See deploy/README.md, Backup and restore."""
    from hub.audit.services import command_line_actor
    from hub.backup import BackupError, take_backup

    try:
        manifest = take_backup(get_engine(), get_settings(), directory, command_line_actor())
    except BackupError as exc:
        fail(str(exc), 2)
    typer.echo(
        f"Backed up to {directory}: the database, {len(manifest['checkpoints'])} pushed "
        f"checkpoint(s), data key ids {', '.join(manifest['data_key_ids'])}."
    )


@app.command("restore")
def restore_command(
    directory: Path = typer.Argument(..., help="A directory written by `hub backup`."),
    checkpoints: list[Path] = typer.Option(
        [],
        "--checkpoints",
        help="A directory of pushed checkpoints to compare with (default HUB_CHECKPOINT_PUSH_DIR).",
    ),
) -> None:
    """Restore a backup into the empty database of HUB_DATABASE_URL, then check its log against
    the newest checkpoint pushed outside the database. Exit 1 if recent entries were lost
    (rollback) or the log differs from what was signed; exit 2, changing nothing, if the
    backup or the database is not fit."""
    from hub.backup import BackupError, restore_backup

    settings = get_settings()
    if not checkpoints and settings.checkpoint_push_dir is not None:
        checkpoints = [settings.checkpoint_push_dir]
    try:
        report = restore_backup(get_engine(), settings, directory, checkpoints)
    except BackupError as exc:
        fail(str(exc), 2)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"Restored {directory}: the log holds {report.entries} entries.")
    if not report.ok:
        fail(str(report.problem))
    if report.newest is not None:
        size = report.newest.checkpoint.tree_size
        typer.echo(
            f"The log holds every entry of the newest pushed checkpoint ({size} entries, "
            f"{report.newest.source}); {report.entries - size} later one(s) were never "
            "checkpointed."
        )
    typer.echo("Next: `hub migrate` if the schema is behind, then `hub audit verify`.")


def main() -> None:
    from pydantic import ValidationError

    try:
        app()
    except SchemaBehind as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        # A setting is missing or malformed: say which, never echo its value.
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "settings"
            typer.echo(f"error: {where}: {error['msg']}", err=True)
        sys.exit(2)
