"""`hub demo`: build the fictional demo site and serve it on plain HTTP for a look around."""

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import typer

from hub.demo.program import DEFAULT_PERSONS, DEFAULT_SEED, demo_accounts
from hub.demo.scale import scale_accounts


def _fresh_settings() -> None:
    from hub.crypto import key_ring
    from hub.db import engine_for
    from hub.settings import get_settings

    for cached in (get_settings, key_ring, engine_for):
        cached.cache_clear()


def _print_phase(name: str, seconds: float) -> None:
    typer.echo(f"  {name}: {seconds:.1f} s", err=True)


def demo_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    seed: int = typer.Option(DEFAULT_SEED, help="Same seed, same program and accounts."),
    persons: int = typer.Option(DEFAULT_PERSONS, min=1, help="How many synthetic persons."),
    scale: int | None = typer.Option(
        None,
        min=1,
        help="Build N times the program (N x --persons persons) with load accounts, agendas "
        "and two years of disclosure log (50,000 x N entries); prints each phase's time.",
    ),
    build_only: bool = typer.Option(
        False, "--build-only", help="Build the database and exit without serving."
    ),
    accounts_json: bool = typer.Option(
        False,
        "--accounts-json",
        help="Print the demo accounts (with --scale, the load accounts too) as JSON and exit "
        "(builds the database if needed).",
    ),
    accounts_doc: Path | None = typer.Option(
        None,
        "--accounts-doc",
        help="Write the demo accounts of this seed as a Markdown table to this file "
        "(docs/demo-accounts.md) and exit; no database needed.",
        dir_okay=False,
    ),
) -> None:
    """Build a fictional LEAD site in a fresh database (HUB_DATABASE_URL, default hub.db) and
    serve it at http://HOST:PORT. Rebuilds a demo database from scratch; refuses any other."""
    from hub.demo.services import (
        NotADemoDatabase,
        accounts_markdown,
        demo_environment,
        demo_mark,
        rebuild_demo,
        safe_url,
    )

    if accounts_doc is not None:
        accounts_doc.write_text(accounts_markdown(demo_accounts(seed), seed))
        typer.echo(f"Wrote the demo accounts of seed {seed} to {accounts_doc}.", err=True)
        return

    env_file = demo_environment(Path.cwd())
    # The demo serves plain HTTP on localhost: cookies without Secure and the __Host- prefix.
    os.environ["HUB_COOKIE_SECURE"] = "false"
    _fresh_settings()
    if env_file is not None:
        typer.echo(f"Secrets for the demo are in {env_file} (demo only).", err=True)

    from sqlalchemy.exc import DBAPIError

    from hub.db import get_engine
    from hub.settings import get_settings

    url = get_settings().database_url
    try:
        mark = demo_mark(url)
        if accounts_json and mark and mark.complete and (mark.seed, mark.scale) == (seed, scale):
            accounts = scale_accounts(seed) if scale else demo_accounts(seed)
        else:
            size = f"{persons} persons" if scale is None else f"scale {scale}"
            typer.echo(f"Building the demo program (seed {seed}, {size})...", err=True)
            started = time.perf_counter()
            accounts = rebuild_demo(
                url, seed, persons, scale=scale, phase=_print_phase if scale else None
            )
            if scale is not None:
                _print_phase("total", time.perf_counter() - started)
    except NotADemoDatabase as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if str(exc.orig) else type(exc.orig).__name__
        typer.echo(f"error: the database could not be used: {reason}", err=True)
        raise typer.Exit(1) from None
    finally:
        get_engine().dispose()

    if accounts_json:
        typer.echo(json.dumps([asdict(account) for account in accounts], indent=2))
        return
    if build_only:
        typer.echo(f"Demo database built at {safe_url(url)}.", err=True)
        return

    import uvicorn

    typer.echo(
        f"Demo ready at http://{host}:{port}/ (everything in it is fictional). Sign in with an "
        "account from docs/demo-accounts.md or `hub demo --accounts-json`.",
        err=True,
    )
    uvicorn.run(
        "hub.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
    )
