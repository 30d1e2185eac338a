"""What do the privacy console's pictures (issue 17, item 9) cost on a large log?

Generates N log entries (1,000,000 by default) spread evenly over --days days (73 by default:
the density of 5,000,000 entries a year, about 13,700 a day), a tenth of them security events
and a tenth withheld reads, in a fresh migrated SQLite database (and a vacuumed PostgreSQL one
unless --no-postgres); then times hub.privacy.activity.log_activity (31 site-local days: their
bounds on the recorded_at index, the counts on the (outcome, seq) index) and the drawing of the
charts, first and then kept; and the drawing of the caseload's and the record's pictures.

    .venv/bin/python bench/bench_activity.py [--entries N] [--days D] [--no-postgres]
                                             [--drawings-only]
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_audit_verify import CHECKPOINT_EVERY  # sets the HUB_ secrets
from timing import figures, timed

from bench.scratch import scratch_postgres

REPEAT = 20
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def rows(count: int, days: int):
    from hub.audit.bulk import entry_row

    step = timedelta(days=days) / count
    start = NOW - timedelta(days=days)
    for seq in range(count):
        security = seq % 10 == 0
        yield entry_row(
            seq,
            start + step * seq,
            secrets.token_hex(16),
            "security" if security else "disclosure",
            "account:sign_in:success" if security else "disclosure:client:read",
            "success" if security else ("withheld" if seq % 10 == 1 else "disclosed"),
            None if security else "case_management",
            "case_manager",
            1 + seq % 40,
            "[]" if security else '["engagement","identity"]',
            None if security else "2026-11-01",
            1 + seq % 500,
            None if security else 1 + seq % 20_000,
            f"req-{seq}",
            "10.0.0.1",
            "{}",
        )


def bench(engine, label: str) -> None:
    from sqlmodel import Session

    from hub.charts import _bars
    from hub.privacy.activity import console_activity, log_activity
    from hub.referrals.rules import current_rules

    with Session(engine) as db:
        zone = current_rules(db).tz
        today = NOW.astimezone(zone).date()
        counting = timed(lambda: (log_activity(db, today, zone, 31), db.rollback()), REPEAT)
        print(f"  {label}: log_activity, 31 days       {figures(counting)}")
        _bars.cache_clear()
        started = time.perf_counter()
        console_activity(db, NOW)
        first = time.perf_counter() - started
        db.rollback()
        kept = timed(lambda: (console_activity(db, NOW), db.rollback()), REPEAT)
        drawn = f"first {first * 1000:.1f} ms (drawn)"
        print(f"  {label}: console_activity, {drawn}; kept {figures(kept)}")


def bench_drawings() -> None:
    """The caseload's and the client record's pictures: no query of their own, only drawing."""
    from datetime import date

    from hub.caserecord.glance import caseload_glance
    from hub.charts import _bars, _timeline, timeline
    from hub.disclosure.caseload import CaseloadRow
    from hub.vocabulary import ProgramStatus

    today = date(2026, 11, 20)
    statuses = list(ProgramStatus)
    rows = [
        CaseloadRow(n, 1, None, statuses[n % len(statuses)], None, None,
                    today + timedelta(days=n % 40 - 20), n % 3 == 0, None, None, None)
        for n in range(25)
    ]  # fmt: skip
    marks = [("referred", date(2026, 11, 2)), ("intake due", date(2026, 12, 2))]

    def fresh(call) -> float:
        _bars.cache_clear()
        _timeline.cache_clear()
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    timeline("warm-up", marks, today)  # matplotlib's first drawing in a process loads fonts
    for name, call in (
        ("caseload glance, 25 rows", lambda: caseload_glance(rows, today)),
        ("record timeline", lambda: timeline("Intake clock", marks, today)),
    ):
        drawn = [fresh(call) for _ in range(5)]
        kept = timed(call, REPEAT)
        print(f"  {name}: drawn {figures(drawn)} | kept {figures(kept)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=73)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--drawings-only", action="store_true")
    args = parser.parse_args()
    bench_drawings()
    if args.drawings_only:
        return
    from hub.audit.bulk import write_entries
    from hub.db import engine_for, migrate

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        os.environ["HUB_DATABASE_URL"] = url
        migrate(url)
        engine = engine_for(url)
        write_entries(engine, rows(args.entries, args.days), batch=CHECKPOINT_EVERY)
        bench(engine, f"SQLite, {args.entries:,} entries over {args.days} days")
        engine.dispose()
    if args.no_postgres:
        return
    with scratch_postgres() as url:
        migrate(url)
        engine = engine_for(url)
        write_entries(engine, rows(args.entries, args.days), batch=CHECKPOINT_EVERY)
        with engine.connect() as connection:
            # As autovacuum leaves a table that has stopped changing: its visibility map set, so
            # that counting reads the index alone.
            connection.commit()
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM (ANALYZE) log_entry"
            )
        bench(engine, f"PostgreSQL, {args.entries:,} entries over {args.days} days")
        engine.dispose()


if __name__ == "__main__":
    main()
