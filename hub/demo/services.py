"""Building a demo site: its secrets, the guard against wiping a real database, the rebuild,
and the accounts table for docs/demo-accounts.md."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, inspect, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from hub.crypto import generate_environment
from hub.db import engine_for, migrate, table_of, utcnow
from hub.demo.legal import build_legal_day
from hub.demo.program import DemoAccount, build_demo
from hub.demo.scale import LOAD_ACCOUNTS_PER_ROLE
from hub.site import SiteSetting, read_setting, write_setting

DEMO_ENV_FILE = "hub-demo.env"
DEMO_MARK = "demo"  # the site setting that says a database was built by `hub demo`
SECRET_NAMES = ("HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY")


class NotADemoDatabase(RuntimeError):
    """The target database holds tables that `hub demo` did not make: it will not wipe them."""


def demo_environment(directory: Path) -> Path | None:
    """Make sure the hub's secrets are in os.environ for a demo.

    Secrets already in the environment win. Otherwise they come from hub-demo.env in
    `directory`, written (mode 0600) on first use and reused after, so that a restarted demo
    can still open what it sealed. Returns the file used, or None when none was needed.
    Callers clear the cached settings afterwards.
    """
    if all(os.environ.get(name) for name in SECRET_NAMES):
        return None
    path = directory / DEMO_ENV_FILE
    if path.exists():
        values = _read_env_file(path)
    else:
        values = generate_environment()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("# Secrets of the `hub demo` site. Demo only: never use them for real.\n")
            handle.writelines(f"{name}={value}\n" for name, value in values.items())
    for name in SECRET_NAMES:
        if not os.environ.get(name) and values.get(name):
            os.environ[name] = values[name]
    return path


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class DemoMark:
    seed: int
    persons: int
    complete: bool
    scale: int | None = None


def demo_mark(url: str) -> DemoMark | None:
    """The demo mark of the database at `url`: None for an empty (or absent) database.

    Raises NotADemoDatabase when the database holds any table but no demo mark.
    """
    engine = _engine(url)
    try:
        tables = inspect(engine).get_table_names()
    except OperationalError as exc:
        if _database_missing(exc):
            return None
        raise
    if not tables:
        return None
    mark: Any = None
    if "site_setting" in tables:
        table = table_of(SiteSetting)
        with engine.connect() as connection:
            mark = connection.execute(
                select(table.c.value).where(table.c.key == DEMO_MARK)
            ).scalar()
    if not isinstance(mark, dict):
        raise NotADemoDatabase(
            f"The database at {safe_url(url)} holds {len(tables)} tables and was not built by "
            "`hub demo`; refusing to wipe it. Point HUB_DATABASE_URL at a new database."
        )
    return DemoMark(
        seed=int(mark.get("seed", -1)),
        persons=int(mark.get("persons", 0)),
        complete=bool(mark.get("complete")),
        scale=mark.get("scale"),
    )


def rebuild_demo(
    url: str,
    seed: int,
    persons: int,
    *,
    today: date | None = None,
    scale: int | None = None,
    phase: Callable[[str, float], None] | None = None,
) -> list[DemoAccount]:
    """Wipe the demo database at `url` (or create it), migrate it and seed the program.

    With `scale` N: N times `persons`, plus the scale build of hub.demo.scale (load accounts,
    agendas, two years of log); `phase` is told each phase's name and seconds.
    Refuses (NotADemoDatabase) a database that `hub demo` did not build.
    """
    today = today or datetime.now(UTC).date()
    timer = _Timer(phase)
    demo_mark(url)
    _create_database_if_missing(url)
    engine = _engine(url)
    _drop_everything(engine)
    migrate(url)
    if scale is not None:
        persons *= scale
    # The mark goes in first, in its own commit: a build that fails half-way still leaves a
    # database that the next `hub demo` recognises as its own and may wipe.
    mark = {"seed": seed, "persons": persons, "complete": False, "built_at": utcnow().isoformat()}
    if scale is not None:
        mark["scale"] = scale
    with Session(engine, expire_on_commit=False) as db:
        write_setting(db, DEMO_MARK, mark)
        db.commit()
    timer.done("schema")
    with Session(engine, expire_on_commit=False) as db:
        # At scale the case records go in as rows: kept through the services one event at a
        # time (with its policy decision and log entry), 30,000 persons would take an hour.
        accounts = build_demo(db, seed, persons, today=today, through_services=scale is None)
        db.commit()
        timer.done(f"program ({persons} persons)")
        if scale is not None:
            from hub.demo.scale import build_scale, scale_accounts

            build_scale(db, seed, scale, today, timer.report)
            accounts = scale_accounts(seed)
        else:
            # The day's legal work, through the services. Not at scale: its log entries carry
            # the time they were appended, and a scale build promises the same log root.
            build_legal_day(db, today)
            timer.done("legal day (services)")
        write_setting(db, DEMO_MARK, {**read_setting(db, DEMO_MARK), "complete": True})
        db.commit()
    return accounts


class _Timer:
    def __init__(self, phase: Callable[[str, float], None] | None) -> None:
        self.phase = phase
        self.started = time.perf_counter()

    def report(self, name: str, seconds: float) -> None:
        if self.phase is not None:
            self.phase(name, seconds)
        self.started = time.perf_counter()

    def done(self, name: str) -> None:
        self.report(name, time.perf_counter() - self.started)


def _engine(url: str) -> Engine:
    return engine_for(url)


def _drop_everything(engine: Engine) -> None:
    """Drop every table (alembic_version included), whatever schema version built them, and on
    PostgreSQL the trigger functions too, which outlive their tables."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        return
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)


def _database_missing(exc: OperationalError) -> bool:
    return "does not exist" in str(exc.orig)


def _create_database_if_missing(url: str) -> None:
    """PostgreSQL: create the named database when the server does not have it yet."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return  # SQLite creates its file on first connection
    try:
        with _engine(url).connect():
            return
    except OperationalError as exc:
        if not _database_missing(exc):
            raise
    name = parsed.database or ""
    server = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with server.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        server.dispose()
    _engine(url).dispose()


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def accounts_markdown(accounts: list[DemoAccount], seed: int) -> str:
    """The demo accounts as docs/demo-accounts.md: a table generated from the seed."""
    lines = [
        "# Demo accounts",
        "",
        "<!-- Generated by `python -m hub demo --accounts-doc docs/demo-accounts.md`; "
        "tests/test_demo.py checks that it matches. Do not edit by hand. -->",
        "",
        f"`hub demo` (seed {seed}) builds a fictional LEAD site with these accounts. They exist "
        "only in the demo database; the passwords and TOTP secrets are public, so never use "
        "them anywhere else.",
        "",
        "Sign in with the e-mail and password, then the six-digit code from any authenticator "
        "app given the TOTP secret (or "
        "`python -c 'import pyotp; print(pyotp.TOTP(\"SECRET\").now())'`). "
        "`hub demo --accounts-json` prints the same list as JSON; another `--seed` gives other "
        "accounts.",
        "",
        *accounts_table(accounts),
        "",
        "## Load accounts (`--scale`)",
        "",
        "`hub demo --scale N` (any N from 1) also creates "
        f"{LOAD_ACCOUNTS_PER_ROLE} load accounts for every role, so that a load test can sign "
        "in many users at once without replaying a TOTP code. The k-th load account of a role "
        "(k = 1.."
        f"{LOAD_ACCOUNTS_PER_ROLE}) is a clone of the role's demo accounts above, taken in turn "
        "in the order of this table: it is named `<local part>.load<k>@<domain>` after the "
        "account it clones (the five officers above give `officer1.load1`, `officer2.load2`, "
        "`officer3.load3@cascadia-police.example`, `officer1.load4`, "
        "`officer2.load5@salish-sheriff.example`, then `officer1.load6@cascadia-police.example` "
        "and so on), has that account's agency, "
        "work-group seats and password, and a TOTP secret of its own derived from the seed. "
        "`hub demo --scale N --accounts-json` prints every account, demo and load, with "
        "password and TOTP secret.",
    ]
    return "\n".join(lines) + "\n"


def accounts_table(accounts: list[DemoAccount]) -> list[str]:
    """The accounts as Markdown table lines; README.md carries the same table."""
    return [
        "| Role | Agency | E-mail | Password | TOTP secret |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {a.role.value} | {a.agency} | {a.email} | `{a.password}` | `{a.totp_secret}` |"
            for a in accounts
        ),
    ]
