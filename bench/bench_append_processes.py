"""Disclosing transactions per second with 1, 2 and 4 app processes on PostgreSQL: how far
the log's advisory lock (log_next_place, held from the append to the commit) caps them.

Each process opens a session, appends 1 or 40 disclosure entries with append_many (one
request's page, one agenda), commits, and starts over, for --seconds; all processes start
together. Two ceilings without the lock run the same way: the same rows, hashed again, into a
copy of log_entry (same indexes, seq from a sequence, no lock), and a transaction that only
reads the last entry and commits. Latency is one transaction's wall time, lock wait included,
from its first statement to the end of its commit (median and p99; "commit ms" is the
median of the commit alone). On a scratch database, dropped afterwards.

    /work/venv/bin/python bench/bench_append_processes.py [--seconds 2] [--processes 1 2 4]

Prints a table; asserts nothing. The client processes and PostgreSQL share this machine's
cores, so give their number with the figures.
"""

import argparse
import multiprocessing
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Also fills the hub's environment (keys, a long checkpoint interval) in every process.
from bench_log_append import disclosures

from bench.scratch import scratch_postgres

# Same columns, indexes and constraints as log_entry; seq from a sequence, so no lock.
UNLOCKED_TABLE = [
    "CREATE TABLE bench_unlocked_entry (LIKE log_entry INCLUDING ALL)",
    "CREATE SEQUENCE bench_unlocked_seq",
    "ALTER TABLE bench_unlocked_entry ALTER COLUMN seq SET DEFAULT nextval('bench_unlocked_seq')",
]
MODES = {
    "append": "append_many under the log's lock, commit",
    "unlocked": "same rows into a copy of log_entry, no lock, commit",
    "read": "read the last entry, commit; no write",
}
WARM_UP = 20


def _body(url: str, mode: str, entries: int) -> Callable[[Any], None]:
    """What one transaction of `mode` does in an open session, before its commit."""
    from sqlalchemy import MetaData, Table, insert, text
    from sqlmodel import Session

    from hub.audit.log import (
        Actor,
        append_many,
        leaf_data,
        leaf_hash,
        personal_digest,
        personal_part,
    )
    from hub.audit.models import LogEntry
    from hub.db import engine_for

    actor = Actor(user_id=1, role="prosecutor", agency_id=2, request_id="r" * 24)
    events = disclosures(entries)
    if mode == "append":
        return lambda db: append_many(db, actor, events)
    if mode == "read":
        return lambda db: db.execute(text("SELECT seq FROM log_entry ORDER BY seq DESC LIMIT 1"))
    # Rows as append_many makes them, once, rolled back; each transaction builds and hashes
    # them again as append_many does, so what differs from "append" is the log's sequencing:
    # the lock, the read of the last entry and the gapless-seq guard (migration 0002audit).
    engine = engine_for(url)
    with Session(engine) as db:
        prototypes = append_many(db, actor, events)
        db.rollback()
    table = Table("bench_unlocked_entry", MetaData(), autoload_with=engine)
    keys = [column.key for column in table.columns if column.key != "seq"]

    def unlocked(db: Session) -> None:
        entries = []
        for prototype in prototypes:
            entry = LogEntry(**{key: getattr(prototype, key) for key in keys}, seq=0)
            entry.salt = secrets.token_hex(16)
            entry.personal_digest = personal_digest(entry.salt, personal_part(entry))
            entry.leaf_hash = leaf_hash(leaf_data(entry))
            entries.append(entry)
        db.execute(insert(table), [{key: getattr(e, key) for key in keys} for e in entries])

    return unlocked


def _worker(url: str, mode: str, entries: int, seconds: float, start: Any, out: Any) -> None:
    """One app process: transactions back to back for `seconds` after the common start."""
    from sqlmodel import Session

    from hub.db import engine_for

    body = _body(url, mode, entries)
    engine = engine_for(url)

    def transaction() -> tuple[float, float]:
        """Its wall time, and the commit's part of it."""
        with Session(engine) as db:
            started = time.perf_counter()
            body(db)
            committing = time.perf_counter()
            db.commit()
            ended = time.perf_counter()
            return ended - started, ended - committing

    for _ in range(WARM_UP):
        transaction()
    start.wait()
    latencies = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        latencies.append(transaction())
    out.put((time.perf_counter() - began, latencies))
    engine.dispose()


def measure(url: str, mode: str, entries: int, processes: int, seconds: float) -> str:
    """One row of the table: `processes` app processes running `mode` together."""
    context = multiprocessing.get_context("spawn")  # each process makes its own connections
    start, out = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_worker, args=(url, mode, entries, seconds, start, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    per_second = sum(len(samples) / elapsed for elapsed, samples in results)
    ordered = sorted(total for _, samples in results for total, _ in samples)
    commits = [commit for _, samples in results for _, commit in samples]
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    appends = f"{per_second * entries:,.0f}" if mode != "read" else "-"
    return (
        f"{processes:>5} {mode:>9} {entries if mode != 'read' else '-':>7} "
        f"{per_second:>9,.0f} {appends:>10} {statistics.median(ordered) * 1000:>9.2f} "
        f"{p99 * 1000:>9.2f} {statistics.median(commits) * 1000:>10.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per setting")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--entries", type=int, nargs="+", default=[1, 40])
    args = parser.parse_args()
    import psycopg

    from hub.db import migrate

    print(f"{os.cpu_count()} CPU cores, shared by the app processes and PostgreSQL")
    for mode, meaning in MODES.items():
        print(f"  {mode}: {meaning}")
    with scratch_postgres() as url:
        migrate(url)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as db:
            for statement in UNLOCKED_TABLE:
                db.execute(statement)
        print(
            "procs      mode entries     txn/s  appends/s median ms    p99 ms  commit ms",
            flush=True,
        )
        for entries in args.entries:
            for mode in MODES:
                if mode == "read" and entries != args.entries[0]:
                    continue  # reads nothing per entry: one row of it per process count
                for processes in args.processes:
                    print(measure(url, mode, entries, processes, args.seconds), flush=True)


if __name__ == "__main__":
    main()
