"""How long a case manager's caseload page (GET /caseload) takes through the real route with a
TestClient, on SQLite with the demo program's data: every client on the page decided for case
management, only the allowed columns read, one disclosure entry appended, one commit. The case
manager is given CLIENTS clients (the demo's caseload plus reassigned ones) first.

    .venv/bin/python bench/bench_caseload.py [--clients 60] [--iterations 100] [--persons 300]
    .venv/bin/python bench/bench_caseload.py --url sqlite:////tmp/copy-of-scale100.sqlite

Prints median and p99 in milliseconds, and the process's CPU time per render; asserts nothing.
(Issue 14's target, median at most 30 ms, is measured at `hub demo --scale 100 --build-only`,
a copy of which --url reads; --persons sets the demo size here.)

Measured 2026-12-04 on the shared 2-core machine, load average 9 to 11 (other engineers'
builds and tests), SQLite, 60 clients, 100 renders:

    persons   median    p99      CPU/render   command
    300       37.8 ms   253.8    18.3 ms      bench/bench_caseload.py
    3,000     25.1 ms   357.1    16.1 ms      bench/bench_caseload.py --url sqlite:////tmp/record-scale10.sqlite
    30,000    59.6 ms   288.5    21.1 ms      bench/bench_caseload.py --url sqlite:////tmp/record-scale100.sqlite
    30,000    50.6 ms   135.2    20.5 ms      the same under nice -n -10
    30,000    61.0 ms   569.7    20.1 ms      the same, right after the 3,000 run

(3,000 persons: `rebuild_demo(url, 2011, 300, scale=10)`, 102 s to build.) The 300-person
median above the 3,000 one is the machine's noise: runs minutes apart differ by a third.

disclose_caseload alone at 30,000 persons: about 10.5 ms of CPU per call, 16 to 40 ms of
wall time; its commit (synchronous=FULL, one log entry into a 5-million-row log with 21
indexes) is about 5 ms of fsync on this disk; SQL execution is under 2 ms (0.6 ms of it the
log insert at 30,000 persons, 0.3 ms at 3,000). The page's CPU grows 25% from 3,000 to
30,000 persons (16.1 to 20.1 ms); the wall time more than doubles (25.1 to 61.0 ms), which
neither the CPU nor the SQL explains: the commit into the 6 GB file and waiting for a core on
a machine running five times its cores, not isolated further. The target (30 ms) is met at
3,000 persons and MISSED at 30,000 as measured here. Tried and not kept: a 64 MB SQLite
page cache (no change). Dropping the page's second read of the person rows: no measurable
change (kept, one query fewer).
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # sign no checkpoints while timing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def give_caseload(db, clients: int) -> int:  # type: ignore[no-untyped-def]
    """The first demo case manager, with `clients` open caseload assignments; their user id."""
    from sqlmodel import col, select

    from hub.accounts.models import User
    from hub.clients.models import ClientAssignment
    from hub.vocabulary import AssignmentKind, Role

    manager = db.exec(
        select(User).where(User.role == Role.case_manager).order_by(col(User.id))
    ).first()
    assert manager is not None
    open_ones = db.exec(
        select(ClientAssignment)
        .join(User, col(User.id) == ClientAssignment.user_id)
        .where(
            col(ClientAssignment.ended_at).is_(None),
            ClientAssignment.kind == AssignmentKind.caseload,
            User.agency_id == manager.agency_id,
        )
        .order_by(col(ClientAssignment.id))
    ).all()
    mine = [a for a in open_ones if a.user_id == manager.id]
    colleague = next(a.user_id for a in open_ones if a.user_id != manager.id)
    for assignment in mine[clients:]:  # a bigger demo gives them more: hand the rest over
        assignment.user_id = colleague
        db.add(assignment)
    mine = mine[:clients]
    for assignment in [a for a in open_ones if a.user_id != manager.id]:
        if len(mine) >= clients:
            break
        assignment.user_id = manager.id
        db.add(assignment)
        mine.append(assignment)
    db.commit()
    return int(manager.id)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument(
        "--url",
        help="an existing demo database to measure instead of building one (a copy: the bench "
        "changes one case manager's caseload and appends to its log); its secrets from the "
        "environment",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = args.url or f"sqlite:///{scratch}/bench.db"
        os.environ["HUB_DATABASE_URL"] = url
        from fastapi.testclient import TestClient
        from sqlmodel import Session, func, select

        from hub.accounts.models import User
        from hub.accounts.sessions import start_session
        from hub.clients.models import Person
        from hub.db import engine_for
        from hub.demo.services import rebuild_demo
        from hub.settings import get_settings
        from hub.web.app import create_app

        get_settings.cache_clear()
        if args.url is None:
            rebuild_demo(url, 2011, args.persons)
        engine = engine_for(url)
        with Session(engine) as db:
            persons = db.exec(select(func.count()).select_from(Person)).one()
        with Session(engine, expire_on_commit=False) as db:
            manager_id = give_caseload(db, args.clients)
            manager = db.get(User, manager_id)
            assert manager is not None
            token, _ = start_session(
                db, manager, mfa_passed=True, address="bench", user_agent="bench"
            )
            db.commit()
        with TestClient(create_app(), base_url="https://testserver") as client:
            client.cookies.set(get_settings().session_cookie_name, token)
            first = client.get("/caseload")
            assert first.status_code == 200, first.status_code
            total = re.search(r"(\d+) clients?\.", first.text)
            assert total is not None
            timings, cpu = [], []
            for _ in range(args.iterations):
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get("/caseload")
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200
            home = []  # the same session's home page: what any signed-in page costs here
            for _ in range(args.iterations):
                started = time.perf_counter()
                client.get("/")
                home.append((time.perf_counter() - started) * 1000)
        print(
            f"caseload page of a case manager with {total.group(1)} clients (first page of 25; "
            f"{engine.dialect.name}, {persons} persons, {args.iterations} renders): "
            f"median {statistics.median(timings):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms"
        )
        # CPU time of this process (the TestClient and the app's thread): what the page costs
        # whatever else the machine runs; the wall time adds the commit's fsync and waiting.
        print(f"CPU time per render: median {statistics.median(cpu):.1f} ms")
        print(
            f"home page of the same session (no client data), for comparison: "
            f"median {statistics.median(home):.1f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
