"""`hub calendar ...`."""

from datetime import datetime

import typer
from sqlmodel import Session

from hub.db import get_engine, utcnow
from hub.hearings.services import send_reminders
from hub.settings import get_settings

calendar_app = typer.Typer(help="Court dates on charging matters.", no_args_is_help=True)


@calendar_app.command("remind")
def remind(
    now: str | None = typer.Option(None, help="The moment to remind as of (ISO, with zone)."),
) -> None:
    """Tell prosecutors and defenders of court dates within HUB_COURT_REMINDER_DAYS, once per
    date (a moved date is told again). Safe to run again."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    if moment.tzinfo is None:
        raise typer.BadParameter("give the moment with its time zone", param_hint="--now")
    with Session(get_engine()) as db:
        created = send_reminders(db, moment, get_settings().court_reminder_days)
    typer.echo(f"{created} new reminder(s).")
