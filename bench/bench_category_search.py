"""How fast is the privacy console's search by disclosed category on a scale demo database?

Times hub.privacy.search.search_log (50 a page) on a database built by `hub demo --scale N`,
for a category alone and with each other kind of filter: the first page, the next page (keyset:
`before` the first page's last seq) and a deep page (`before` a seq 90% of the way back), and
prints the median and the slowest of --repeat runs, with the rows each page shows.

    HUB_DATABASE_URL=... python -m hub demo --scale 20 --build-only
    /work/venv/bin/python bench/bench_category_search.py --url URL [--repeat 5] [--plans]
        [--only TEXT] [--record-views]

The HUB_ keys must be the ones the database was built with (the search reads the site's
rules, which are stored encrypted only in part; the log itself is not decrypted).
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import bench_record_view, timed


def figures(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:9.1f} ms  max {max(samples) * 1000:9.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print each first page's plan")
    parser.add_argument("--only", help="run only the cases whose name holds this text")
    parser.add_argument(
        "--record-views",
        action="store_true",
        help="also time disclose_record with and without its log append (bench_console's; it "
        "adds a client and appends to the log: a scratch database only)",
    )
    args = parser.parse_args()

    from sqlalchemy import func, select
    from sqlmodel import Session

    from hub.audit.models import LogEntry
    from hub.db import engine_for
    from hub.privacy.search import LogFilter, search_log
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
        db.rollback()
    day = recorded.date()
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
    if args.record_views:
        bench_record_view(engine, f"{engine.dialect.name} with {newest + 1:,} entries")
    engine.dispose()


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
