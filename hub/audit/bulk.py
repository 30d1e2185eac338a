"""Many log entries at once, for the scale demo and the benchmarks: rows as hub.audit.log.append
would store them, written straight through the driver (executemany on SQLite, COPY on
PostgreSQL), with a signed checkpoint after every batch, so that `hub audit verify` passes.

Never used by the app: a live hub appends one entry at a time, under the lock, in the
transaction of what it records. A bulk write is only for a database that nobody uses yet.
"""

import hashlib
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from hub.audit.checkpoint import sign_checkpoint
from hub.audit.log import PERSONAL_FIELDS, PUBLIC_FIELDS, timestamp
from hub.audit.verify import personal_text, public_leaf_text

# The columns of log_entry a bulk row fills, in the order of entry_row's tuple.
COLUMNS = (*PUBLIC_FIELDS, *PERSONAL_FIELDS, "salt", "personal_digest", "leaf_hash")
Row = tuple[Any, ...]


def entry_row(
    seq: int,
    recorded_at: datetime,
    salt: str,
    kind: str,
    tag: str,
    outcome: str,
    purpose: str | None,
    actor_role: str | None,
    actor_agency_id: int | None,
    categories: str,
    policy_version: str | None,
    actor_user_id: int | None,
    person_id: int | None,
    request_id: str | None,
    address: str | None,
    detail: str | None,
) -> Row:
    """One entry as a row of COLUMNS, its digest and leaf computed as hub.audit.log.append does.

    `categories` and `detail` are canonical JSON text (hub.audit.log.canonical_json), as the
    CanonicalJSON column stores them; the sorted category list is the caller's to give. The
    leaf text is hub.audit.verify's, which tests/test_audit_verify.py checks byte for byte
    against the reference encoding.
    """
    personal = personal_text(
        actor_user_id, address, "null" if detail is None else detail, person_id, request_id
    )
    digest = hashlib.sha256(bytes.fromhex(salt) + personal.encode()).hexdigest()
    leaf = public_leaf_text(
        seq,
        timestamp(recorded_at),
        kind,
        tag,
        outcome,
        purpose,
        actor_role,
        actor_agency_id,
        categories,
        policy_version,
        digest,
    )
    return (
        seq,
        recorded_at,
        kind,
        tag,
        outcome,
        purpose,
        actor_role,
        actor_agency_id,
        categories,
        policy_version,
        actor_user_id,
        person_id,
        request_id,
        address,
        detail,
        salt,
        digest,
        hashlib.sha256(b"\x00" + leaf.encode()).hexdigest(),
    )


def write_entries(engine: Engine, rows: Iterable[Row], *, batch: int = 250_000) -> dict[str, float]:
    """Writes the rows (seq order, continuing the log) in batches of `batch`, each committed
    and followed by a signed checkpoint over the whole log. Returns the seconds spent on each
    step: "rows" (making and inserting them), "checkpoints", "indexes"."""
    seconds = dict.fromkeys(("rows", "checkpoints", "indexes"), 0.0)
    postgres = engine.dialect.name == "postgresql"
    # Building an index once over every row is many times faster than updating twenty indexes
    # row by row: they go while the rows go in, and come back as they were, from the database's
    # own CREATE INDEX text (the category indexes are partial: their WHERE must come back word
    # for word, or the search could not use them). The primary key on seq stays, so checkpoints
    # read their leaves by range.
    names = {str(index["name"]) for index in inspect(engine).get_indexes("log_entry")}
    with engine.begin() as connection:
        indexes = [
            (name, definition)
            for name, definition in connection.execute(
                text(_INDEX_DEFINITIONS_PG if postgres else _INDEX_DEFINITIONS_SQLITE)
            )
            if name in names
        ]
        for name, _definition in indexes:
            connection.execute(text(f"DROP INDEX {_quote(engine, name)}"))
    iterator = iter(rows)
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        while True:
            started = time.perf_counter()
            counted = _Counted(islice(iterator, batch))
            if postgres:
                _copy(driver, counted)
            else:
                _insert_sqlite(driver, counted)
            seconds["rows"] += time.perf_counter() - started
            if not counted.count:
                break
            started = time.perf_counter()
            with Session(engine) as db:
                sign_checkpoint(db)
                db.commit()
            seconds["checkpoints"] += time.perf_counter() - started
    finally:
        raw.close()
        started = time.perf_counter()
        with engine.begin() as connection:
            for _name, definition in indexes:
                # text() doubles the LIKE patterns' % for psycopg's placeholders; the "::" of
                # PostgreSQL's casts is not a bind parameter to it.
                connection.execute(text(definition))
        seconds["indexes"] = time.perf_counter() - started
    return seconds


# Each index of log_entry as its CREATE INDEX statement; only those inspect() lists as indexes
# are dropped (not the primary key's).
_INDEX_DEFINITIONS_PG = (
    "SELECT indexname, indexdef FROM pg_indexes "
    "WHERE schemaname = current_schema() AND tablename = 'log_entry'"
)
_INDEX_DEFINITIONS_SQLITE = (
    "SELECT name, sql FROM sqlite_master "
    "WHERE type = 'index' AND tbl_name = 'log_entry' AND sql IS NOT NULL"
)


class _Counted:
    """Rows passed through, counted (a batch is streamed, never held as a list)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self.rows:
            self.count += 1
            yield row


_COLUMN_LIST = ", ".join(COLUMNS)


def _copy(driver: Any, rows: Iterable[Row]) -> None:
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY log_entry ({_COLUMN_LIST}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    driver.commit()


def _insert_sqlite(driver: Any, rows: Iterable[Row]) -> None:
    marks = ", ".join("?" * len(COLUMNS))
    cursor = driver.cursor()
    # hub.db opens SQLite connections in autocommit mode: one transaction per batch.
    cursor.execute("BEGIN IMMEDIATE")
    cursor.executemany(
        f"INSERT INTO log_entry ({_COLUMN_LIST}) VALUES ({marks})",  # noqa: S608 - constants
        ((row[0], row[1].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[2:]) for row in rows),
    )
    cursor.execute("COMMIT")
    cursor.close()


def _quote(engine: Engine, name: str | None) -> str:
    return engine.dialect.identifier_preparer.quote(str(name))
