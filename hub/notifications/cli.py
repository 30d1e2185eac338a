"""`hub notifications ...`."""

from datetime import date

import typer
from sqlmodel import Session

from hub.db import get_engine, utcnow
from hub.notifications.services import sweep_deadlines
from hub.referrals.rules import current_rules

notifications_app = typer.Typer(help="Notifications to users.", no_args_is_help=True)


@notifications_app.command("sweep")
def sweep(
    today: str | None = typer.Option(None, help="The date to sweep for (YYYY-MM-DD)."),
) -> None:
    """Notify case managers of intake deadlines near or missed. Safe to run again."""
    with Session(get_engine()) as db:
        rules = current_rules(db)
        day = date.fromisoformat(today) if today else utcnow().astimezone(rules.tz).date()
        created = sweep_deadlines(db, day, rules=rules)
    typer.echo(f"{created} new notification(s).")
