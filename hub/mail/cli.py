"""`hub mail ...`."""

from datetime import datetime

import typer
from sqlmodel import Session

from hub.db import get_engine
from hub.mail.services import MailNotConfigured, send_due, waiting

mail_app = typer.Typer(help="E-mail from the outbox.", no_args_is_help=True)


@mail_app.command("send")
def send(
    now: str | None = typer.Option(
        None, help="Send what is due at this time (ISO 8601 with zone), not now."
    ),
) -> None:
    """Send the mail that is due, and retry later what fails. Safe to run at once from two
    hosts: no mail goes out twice."""
    at = datetime.fromisoformat(now) if now else None
    if at is not None and at.tzinfo is None:
        typer.echo("error: --now needs a time zone, e.g. 2026-01-05T07:00:00+00:00", err=True)
        raise typer.Exit(2)
    with Session(get_engine()) as db:
        try:
            report = send_due(db, at)
        except MailNotConfigured as error:
            typer.echo(f"error: {error} ({waiting(db)} mail(s) waiting).", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"{report.sent} sent, {report.retrying} to retry, {report.failed} given up; "
        f"{report.digests} digest(s) made."
    )
