"""`hub site ...`: the site's referral rules, kept as data."""

from pathlib import Path

import typer
from sqlmodel import Session

from hub.audit.log import Actor, Event, append
from hub.db import get_engine
from hub.referrals.rules import RulesError, read_rules_file, store_rules
from hub.vocabulary import SecurityEventTag

site_app = typer.Typer(help="The site's own rules, kept as data.", no_args_is_help=True)


@site_app.command("load-rules")
def load_rules(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A YAML or JSON file."),
) -> None:
    """Validate a referral rules file (policies/site/) and make it the site's rules."""
    try:
        rules, digest = read_rules_file(path)
    except RulesError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    with Session(get_engine()) as db:
        store_rules(db, rules)
        append(
            db,
            Actor(role="cli"),
            Event(
                kind="security",
                tag=SecurityEventTag.site_rules_loaded.value,
                outcome="success",
                detail={"version": rules.version, "sha256": digest},
            ),
        )
        db.commit()
    typer.echo(f"Loaded referral rules {rules.version} ({digest[:12]}).")
