"""How fast is the privacy console's search by disclosed category on a scale demo database?

Times hub.privacy.search.search_log (50 a page) on a database built by `hub demo --scale N`,
for a category alone and with each other kind of filter: the first page, the next page (keyset:
`before` the first page's last seq) and a deep page (`before` a seq 90% of the way back), and
prints the median and the slowest of --repeat runs, with the rows each page shows.

    HUB_DATABASE_URL=... python -m hub demo --scale 20 --build-only
    /work/venv/bin/python bench/bench_category_search.py [--url URL] [--repeat 5] [--plans]
        [--only TEXT] [--appends N] [--fill N]

In the scale demo every category is common (treatment is in a third of the entries). With
--fill N the script first migrates the (empty) database at URL and fills it with N synthetic
entries (bench_audit_verify's rows) where treatment is rare: 0.1% of the entries, health 1%,
all of them case managers' reads. Without --url it does that with 200,000 entries in a scratch
SQLite file (as bench/run_all.py runs it).

Run it with the HUB_ keys the database was built with (for a scratch database, any: it makes
its own when none are set).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import timed


def figures(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:9.1f} ms  max {max(samples) * 1000:9.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", help="the database; without it, a scratch SQLite file filled with --fill entries"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print each first page's plan")
    parser.add_argument("--only", help="run only the cases whose name holds this text")
    parser.add_argument(
        "--appends",
        type=int,
        default=0,
        help="also time N appends of a record read (each committed, as a page view's): they "
        "stay in the log, so a scratch database only",
    )
    parser.add_argument("--fill", type=int, default=0, help="first fill an empty database")
    args = parser.parse_args()
    if args.url is None:
        # As bench/run_all.py runs it: a short run on a scratch database of its own.
        with tempfile.TemporaryDirectory() as directory:
            args.url = f"sqlite:///{Path(directory) / 'bench.db'}"
            fill(args.url, args.fill or 200_000)
            run(args)
        return
    if args.fill:
        fill(args.url, args.fill)
    run(args)


def run(args: argparse.Namespace) -> None:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from hub.audit.models import LogEntry
    from hub.db import engine_for
    from hub.privacy.search import LogFilter, search_log
    from hub.referrals.rules import site_zone
    from hub.vocabulary import Category, Purpose, Role

    engine = engine_for(args.url)
    table = LogEntry.__table__  # type: ignore[attr-defined]
    with Session(engine) as db:
        newest = db.execute(select(func.max(table.c.seq))).scalar_one()
        recorded = db.execute(
            select(table.c.recorded_at).where(table.c.seq == newest // 2)
        ).scalar_one()
        # A client and a user of recent entries (chosen without the category filter, so that
        # the same ones are chosen before and after a change to it).
        person, user = db.execute(
            select(table.c.person_id, table.c.actor_user_id)
            .where(table.c.person_id.is_not(None), table.c.actor_role == Role.case_manager.value)
            .order_by(table.c.seq.desc())
            .limit(1)
        ).one()
        day = recorded.astimezone(site_zone(db)).date()  # the site-local day, as the console's
        db.rollback()
    treatment, identity = Category.treatment, Category.identity
    cases = [
        ("treatment", LogFilter(category=treatment)),
        ("identity", LogFilter(category=identity)),
        ("health", LogFilter(category=Category.health)),
        ("treatment, one day", LogFilter(category=treatment, since=day, until=day)),
        ("identity, one day", LogFilter(category=identity, since=day, until=day)),
        (f"treatment, client {person}", LogFilter(category=treatment, person_id=person)),
        (f"identity, client {person}", LogFilter(category=identity, person_id=person)),
        (f"treatment, user {user}", LogFilter(category=treatment, user_id=user)),
        ("treatment, role=defender", LogFilter(category=treatment, role=Role.defender)),
        ("treatment, role=officer", LogFilter(category=treatment, role=Role.officer)),
        ("health, purpose=defense", LogFilter(category=Category.health, purpose=Purpose.defense)),
        ("treatment, basis=consent", LogFilter(category=treatment, basis="consent")),
    ]
    if args.only:
        cases = [(n, f) for n, f in cases if args.only in n]
    deep = newest // 10
    print(f"{engine.dialect.name}, {newest + 1:,} entries; {args.repeat} runs each")
    print(f"  deep page: before seq {deep:,}; one day: {day}")
    with Session(engine) as db:
        for name, found in cases:
            first_page = search_log(db, found)
            db.rollback()
            first = timed(lambda f=found: (search_log(db, f), db.rollback()), args.repeat)
            line = f"  {name:30} first {figures(first)} ({len(first_page.entries)} rows)"
            if first_page.next_before is not None:
                cursor = first_page.next_before
                after = timed(
                    lambda f=found, c=cursor: (search_log(db, f, before=c), db.rollback()),
                    args.repeat,
                )
                line += f" | next {figures(after)}"
            if first_page.next_before is not None and first_page.next_before > deep:
                deep_rows = len(search_log(db, found, before=deep).entries)
                db.rollback()
                deep_page = timed(
                    lambda f=found: (search_log(db, f, before=deep), db.rollback()), args.repeat
                )
                line += f" | deep {figures(deep_page)} ({deep_rows} rows)"
            print(line, flush=True)
            if args.plans:
                print_plan(db, engine.dialect.name, found)
    if args.appends:
        time_appends(engine, args.appends, person)
    engine.dispose()


def fill(url: str, count: int) -> None:
    """N synthetic entries, treatment in 1 of 1,000 and health in 1 of 100 (every one of them
    at a seq divisible by 5: a case manager's read, in bench_audit_verify's rows)."""
    from datetime import UTC, datetime, timedelta

    import bench_audit_verify as rows

    from hub.audit.bulk import write_entries
    from hub.db import engine_for, migrate

    common = [c for c in rows.CATEGORIES if "health" not in c]
    skewed = [["health", "identity", "treatment"]]
    health = ["health", "identity"]
    skewed += [health if i < 50 and i % 5 == 0 else common[i % len(common)] for i in range(1, 1000)]
    rows.CATEGORIES[:] = skewed
    migrate(url)
    engine = engine_for(url)
    started = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=365)
    steps = write_entries(engine, rows.make_rows(count, start), batch=rows.CHECKPOINT_EVERY)
    took = time.perf_counter() - started
    print(f"filled {count:,} entries in {took:.0f} s (indexes: {steps['indexes']:.1f} s)")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE log_entry")
    engine.dispose()


def time_appends(engine, count: int, person_id: int) -> None:
    """What the log's hot path costs per entry with the indexes the database has now."""
    from sqlmodel import Session

    from hub.audit.log import Actor, Event, append
    from hub.vocabulary import DisclosureTag, LogKind, Purpose

    actor = Actor(user_id=1, role="case_manager", agency_id=1, request_id="bench", address="::1")
    basis = {c: "relationship:caseload" for c in ("identity", "health", "treatment")}
    event = Event(
        kind=LogKind.disclosure.value,
        tag=DisclosureTag.client_record_read.value,
        outcome="disclosed",
        purpose=Purpose.case_management.value,
        person_id=person_id,
        categories=sorted(basis),
        policy_version="bench",
        detail={"basis": basis, "withheld": {}, "notes": []},
    )

    def one() -> None:
        with Session(engine) as db:
            append(db, actor, event)
            db.commit()

    one()
    samples = timed(one, count)
    print(f"  append + commit of a record read, {count} runs: {figures(samples)}")


def print_plan(db, dialect: str, found) -> None:
    from hub.privacy import search

    statement = search.search_statement(db, found, None, search.PAGE_SIZE)
    if statement is None:
        return
    compiled = statement.compile(
        dialect=db.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    for row in db.connection().exec_driver_sql(explain + str(compiled)):
        print("      " + " ".join(str(c) for c in row))
    db.rollback()


if __name__ == "__main__":
    main()
