"""How fast is the privacy console's search over a large log, and what does the log add to one
record view?

1. Generates N log entries (2,000,000 by default, with bench_audit_verify's generator) in a
   fresh, migrated SQLite database and times hub.privacy.search.search_log for a few filters:
   the first page and a deep page (keyset: `before` a seq far back), median and p99.
2. Times hub.disclosure.record.disclose_record on that database with its log append, and with
   the append replaced by a bare commit (this bench only), median and p99; then the same on a
   fresh PostgreSQL database holding a log of --pg-entries entries.

    /work/venv/bin/python bench/bench_console.py [--entries N] [--pg-entries N] [--no-postgres]
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_audit_verify import CHECKPOINT_EVERY, make_rows  # sets the HUB_ secrets
from timing import timed

from bench.scratch import scratch_postgres

REPEAT = 40
VIEWS = 300


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms"


def bench_search(engine, entries: int, start: datetime) -> None:
    from sqlmodel import Session

    from hub.privacy.search import LogFilter, search_log
    from hub.vocabulary import Category, Purpose, Role

    day = (start + timedelta(microseconds=50 * entries // 2)).date()
    cases = [
        ("no filter", LogFilter()),
        ("role=prosecutor", LogFilter(role=Role.prosecutor)),
        ("user=42", LogFilter(user_id=42)),
        ("client=1234", LogFilter(person_id=1234)),
        ("agency=7, purpose=defense", LogFilter(agency_id=7, purpose=Purpose.defense)),
        ("category=health", LogFilter(category=Category.health)),
        ("basis=consent:77", LogFilter(basis="consent:77")),
        ("one day, role=officer", LogFilter(since=day, until=day, role=Role.officer)),
    ]
    deep = entries // 10  # 90% of the log lies between the newest entry and this cursor
    print(f"  search_log, 50 a page, {REPEAT} runs each (deep page: before seq {deep:,}):")
    with Session(engine) as db:
        for name, found in cases:
            first = timed(lambda f=found: (search_log(db, f), db.rollback()), REPEAT)
            deep_page = timed(
                lambda f=found: (search_log(db, f, before=deep), db.rollback()), REPEAT
            )
            shown = len(search_log(db, found, before=deep).entries)
            db.rollback()
            print(
                f"    {name:28} first {figures(first)} | deep {figures(deep_page)} ({shown} rows)"
            )


def seed_client(engine) -> SimpleNamespace:
    from sqlmodel import Session

    from hub.accounts.models import Agency, User
    from hub.accounts.sessions import viewer_for
    from hub.clients.models import ClientAssignment, HealthRecord, Person, PersonContact, PlanGoal
    from hub.vocabulary import AgencyKind, AssignmentKind, Role

    with Session(engine, expire_on_commit=False) as db:
        agency = Agency(
            name=f"Bench Agency {secrets.token_hex(3)}", kind=AgencyKind.case_management
        )
        db.add(agency)
        db.flush()
        user = User(
            agency_id=agency.id,
            email=f"bench-{secrets.token_hex(3)}@example.test",
            display_name="Bench Case Manager",
            role=Role.case_manager,
            password_hash="x",
        )
        person = Person(first_name="Bench", last_name="Client")
        db.add_all([user, person])
        db.flush()
        db.add_all(
            [
                ClientAssignment(
                    person_id=person.id, user_id=user.id, kind=AssignmentKind.caseload
                ),
                PersonContact(person_id=person.id, phone="555-0100", staying_at="Shelter"),
                PlanGoal(person_id=person.id, goal="Get an ID card"),
                HealthRecord(person_id=person.id, mental_health="Anxiety"),
            ]
        )
        db.commit()
        return SimpleNamespace(viewer=viewer_for(db, user), person_id=person.id)


def bench_record_view(engine, label: str) -> None:
    from sqlmodel import Session

    from hub.audit.log import Actor
    from hub.disclosure import record
    from hub.vocabulary import Purpose

    seeded = seed_client(engine)
    actor = Actor(request_id="bench", address="127.0.0.1")

    def view() -> None:
        with Session(engine, expire_on_commit=False) as db:
            record.disclose_record(
                db, seeded.viewer, seeded.person_id, Purpose.case_management, actor
            )

    logged = record.append_and_commit

    def bare_commit(db, _actor, _event):  # the read's transaction still commits
        db.commit()
        return SimpleNamespace(seq=-1)

    view()  # warm: policy compiled, connections open
    with_log = timed(view, VIEWS)
    record.append_and_commit = bare_commit
    try:
        without = timed(view, VIEWS)
    finally:
        record.append_and_commit = logged
    added = statistics.median(with_log) - statistics.median(without)
    print(f"  disclose_record on {label}, {VIEWS} views each:")
    print(f"    with the log append     {figures(with_log)}")
    print(f"    without (bench only)    {figures(without)}")
    print(f"    the log adds            {added * 1000:7.2f} ms at the median")


def fill(engine, count: int, start: datetime) -> None:
    """A log of `count` entries, written as `hub demo --scale` writes its log (hub.audit.bulk)."""
    from hub.audit.bulk import write_entries

    write_entries(engine, make_rows(count, start), batch=CHECKPOINT_EVERY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--pg-entries", type=int, default=2_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    from hub.db import engine_for, migrate

    start = datetime.now(UTC) - timedelta(days=1)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        url = f"sqlite:///{path}"
        os.environ["HUB_DATABASE_URL"] = url
        migrate(url)
        engine = engine_for(url)
        started = time.perf_counter()
        fill(engine, args.entries, start)
        took = time.perf_counter() - started
        print(f"SQLite, {args.entries:,} entries (generated in {took:.0f} s):")
        bench_search(engine, args.entries, start)
        bench_record_view(engine, f"SQLite with {args.entries:,} entries")
        engine.dispose()
    if args.no_postgres:
        return
    with scratch_postgres() as url:
        migrate(url)
        engine = engine_for(url)
        fill(engine, args.pg_entries, start)
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE log_entry")
            connection.commit()
        print(f"PostgreSQL, {args.pg_entries:,} entries:")
        bench_search(engine, args.pg_entries, start)
        bench_record_view(engine, f"PostgreSQL with {args.pg_entries:,} entries")
        engine.dispose()


if __name__ == "__main__":
    main()
