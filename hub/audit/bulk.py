"""Many log entries at once, for the scale demo and the benchmarks: rows as hub.audit.log.append
would store them, written straight through the driver (executemany on SQLite, COPY on
PostgreSQL), with a signed checkpoint after every batch, so that `hub audit verify` passes.

Never used by the app: a live hub appends one entry at a time, under the lock, in the
transaction of what it records. A bulk write is only for a database that nobody uses yet.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hub.audit.checkpoint import sign_checkpoint
from hub.audit.log import timestamp
from hub.audit.verify import personal_text, public_leaf_text

# The columns of log_entry a bulk row fills, in the order of entry_row's tuple.
COLUMNS = (
    "seq",
    "recorded_at",
    "kind",
    "tag",
    "outcome",
    "purpose",
    "actor_role",
    "actor_agency_id",
    "categories",
    "policy_version",
    "actor_user_id",
    "person_id",
    "request_id",
    "address",
    "detail",
    "salt",
    "personal_digest",
    "leaf_hash",
)
Row = tuple[Any, ...]


def entry_row(
    seq: int,
    recorded_at: datetime,
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
    salt: str,
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


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def write_entries(
    engine: Engine,
    rows: Iterable[Row],
    *,
    batch: int = 250_000,
    after_batch: Callable[[int], None] | None = None,
) -> int:
    """Writes the rows (seq order, continuing the log) in batches of `batch`, each committed
    and followed by a signed checkpoint over the whole log; returns how many were written.
    `after_batch` is told the running count (for progress)."""
    columns = ", ".join(COLUMNS)
    written = 0
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        for rows_of_batch in _batches(rows, batch):
            if postgres:
                with driver.cursor() as cursor:
                    with cursor.copy(f"COPY log_entry ({columns}) FROM STDIN") as copy:
                        for row in rows_of_batch:
                            copy.write_row(row)
                driver.commit()
            else:
                marks = ", ".join("?" * len(COLUMNS))
                cursor = driver.cursor()
                # hub.db opens SQLite connections in autocommit mode: one transaction per batch.
                cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(
                    f"INSERT INTO log_entry ({columns}) VALUES ({marks})",
                    (
                        (row[0], row[1].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[2:])
                        for row in rows_of_batch
                    ),
                )
                cursor.execute("COMMIT")
                cursor.close()
            written += len(rows_of_batch)
            with Session(engine) as db:
                sign_checkpoint(db)
                db.commit()
            if after_batch is not None:
                after_batch(written)
    finally:
        raw.close()
    return written
