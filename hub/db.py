"""The database: engine, sessions, column types shared by every domain, and the schema check.

The schema is built by Alembic only (`hub migrate`); the app refuses a database whose schema is
behind the code.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Table, event, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from hub.settings import PROJECT_ROOT, get_settings

# A moment set by clock_at: the demo records each past event through the real services at the
# moment it happened. Unset everywhere else: the wall clock.
_SET_CLOCK: ContextVar[datetime | None] = ContextVar("hub_set_clock", default=None)


def utcnow() -> datetime:
    return _SET_CLOCK.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Within the block, utcnow() (and so every service, log entry and form's "today") is
    `moment`, an aware datetime."""
    token = _SET_CLOCK.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _SET_CLOCK.reset(token)


# Record ids are INTEGER columns: 32-bit on PostgreSQL. A larger number names no row, and the
# database would refuse even to compare it (SQLite raises OverflowError past 2**63), so input
# beyond these is refused before any query runs. The log's seq is a BIGINT, bounded here at
# the largest integer every JSON reader holds exactly (2**53 - 1): a bound near 2**63 reads
# as a float in a JSON Schema and admits numbers past it. No log grows that long.
MAX_RECORD_ID = 2**31 - 1
MAX_LOG_SEQ = 2**53 - 1


def record_number(text: str) -> int:
    """A record number typed into a text field or chosen from a list: ValueError unless it is a
    whole number from 1 to MAX_RECORD_ID."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_RECORD_ID)):
        raise ValueError("not a record number")
    number = int(value)
    if not 1 <= number <= MAX_RECORD_ID:
        raise ValueError("not a record number")
    return number


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the hub stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(**kwargs: Any) -> Any:
    """A SQLModel field holding a UTC timestamp."""
    from sqlmodel import Field

    return Field(sa_type=UTCDateTime, **kwargs)


def enum_column(enum: type, **kwargs: Any) -> Any:
    """A column for one of hub.vocabulary's enums, stored as its plain value."""
    from sqlalchemy import Column, Enum

    return Column(Enum(enum, native_enum=False, length=32, values_callable=_values), **kwargs)


def _values(enum: type) -> list[str]:
    return [member.value for member in enum]  # type: ignore[attr-defined]


# Lists of codes (offenses, categories, HMIS codes) are small and read whole: JSON is enough.
JSONList = JSON


@lru_cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite would start transactions only at the first write, so the reads before it
            # would sit outside the transaction that logs them; we begin explicitly instead.
            dbapi_connection.isolation_level = None
            # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
            # FULL syncs the WAL at every commit: a disclosure is shown only after its log entry
            # commits, and with NORMAL a power cut could still take back the last commits (and
            # a checkpoint already pushed out could then cover entries the database lost). It
            # costs an fsync per commit (docs/crash-test.md); a mere kill loses nothing either way.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # Every transaction that reads client data also appends to the log; taking the write
            # lock up front means it can never fail half-way for want of it (SQLITE_BUSY_SNAPSHOT).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def get_session() -> Iterator[Session]:
    """One session per request; it commits only where a service says so."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def rollback_on_error(db: Session) -> Iterator[None]:
    """Rolls the session back if the block raises: a refused or failed write leaves nothing
    behind, and on SQLite the write lock (BEGIN IMMEDIATE) is released at once."""
    try:
        yield
    except BaseException:
        db.rollback()
        raise


# --- schema version -------------------------------------------------------------------------


class SchemaBehind(RuntimeError):
    """The database is not at the schema this code needs."""


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option(
        "sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%")
    )
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def check_schema_current(engine: Engine) -> None:
    """Raise SchemaBehind unless the database stands at every head of migrations/."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    wanted = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != wanted:
        have = ", ".join(sorted(current)) or "an empty schema"
        raise SchemaBehind(
            f"The database is at {have} but this hub needs {', '.join(sorted(wanted))}. "
            "Run `hub migrate` first."
        )


def try_transaction_lock(db: Session, lock_id: int) -> bool:
    """Takes a PostgreSQL advisory lock held until the transaction ends, if no other process
    holds it. On SQLite a writing transaction already holds the database's write lock: True."""
    if db.get_bind().dialect.name != "postgresql":
        return True
    locked = db.execute(
        text("SELECT pg_try_advisory_xact_lock(:lock_id)").bindparams(lock_id=lock_id)
    ).scalar()
    return bool(locked)


def table_of(model: type[SQLModel]) -> Table:
    """A table model's table, for Core statements (SQLModel does not type `__table__`)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def ident(value: int | None) -> int:
    """The id of a row that has been flushed (SQLModel types ids as optional)."""
    if value is None:
        raise RuntimeError("the row has no id yet: flush it first")
    return value
