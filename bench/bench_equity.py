"""How long the equity dashboard (GET /equity, issue 16) takes for a policy-group member,
through the real route with a TestClient: cold, the first view after a write (the counts in one
GROUP BY, every table suppressed together, four SVG charts), and warm, a view of unchanged
data (the figures kept per data version, hub.equity.kept); each view one aggregate disclosure.

    .venv/bin/python bench/bench_equity.py [--scale 10] [--iterations 20] [--months 12]
    .venv/bin/python bench/bench_equity.py --scale 100 --keep /tmp/equity-n100.sqlite
    .venv/bin/python bench/bench_equity.py --postgres postgresql+psycopg://postgres@127.0.0.1/x
    .venv/bin/python bench/bench_equity.py --url sqlite:////tmp/copy-of-scale100.sqlite

--scale N builds the demo program with N x 300 persons (as `hub demo` does, through the
services, without the two years of log; --keep FILE keeps it). --url times a database already
built and migrated (a copy, never a shared one: it gains a session and writes). Each iteration
writes through the triggers of migration 0010eqv (a new data version, the same figures), then
times a cold view and a warm one, so both see the same load. --profile prints a cProfile of a
cold view. Prints medians and p99 in milliseconds and the size of the cube; asserts nothing.

Measured 2026-12-04 23:54-00:10 UTC, SQLite, 2-core machine shared with other work (load
average 4 to 7); main = the code before this work, same command, every view computing:
demo (scale 1) cold median 91 ms, p99 104 ms; warm 14 / 19 ms (main 202 / 333 ms);
scale 10 (3,000 persons, --url) cold 976 / 1,178 ms, warm 23 / 37 ms (main 899 / 1,224 ms);
PostgreSQL demo cold 251 / 371 ms, warm 22 / 126 ms;
scale 100 (30,000 persons, a cube of 14,338 groups, --url) cold median 2,334 ms, p99 3,005
ms; warm 64 / 117 ms (main 2,116 / 2,696 ms). The issue's 300 ms at 100x holds for every view
but the first after a change; docs/equity.md, "How fast", says where a cold view's time goes.
"""

import argparse
import cProfile
import os
import pstats
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--postgres", help="an empty PostgreSQL database's URL instead of SQLite")
    parser.add_argument(
        "--url",
        help="a database already built (hub demo --scale N, migrated to head) to time as it is,"
        " instead of building one; it gains a session row. Never the shared copy itself.",
    )
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="build the SQLite database into FILE and keep it, for later runs with --url (a copy)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of a cold render")
    args = parser.parse_args()
    persons = 300 * args.scale

    with tempfile.TemporaryDirectory() as scratch:
        built_at = Path(args.keep).resolve() if args.keep else Path(scratch) / "bench.db"
        url = args.url or args.postgres or f"sqlite:///{built_at}"
        os.environ["HUB_DATABASE_URL"] = url
        from datetime import UTC, datetime

        from fastapi.testclient import TestClient
        from sqlalchemy import update
        from sqlmodel import Session, col, func, select

        from hub.accounts.models import User
        from hub.accounts.sessions import start_session
        from hub.clients.models import Person
        from hub.db import engine_for
        from hub.demo.services import rebuild_demo
        from hub.equity.figures import months_back, referral_cube
        from hub.referrals.models import Referral
        from hub.settings import get_settings
        from hub.vocabulary import Role
        from hub.web.app import create_app

        get_settings.cache_clear()
        started = time.perf_counter()
        if not args.url:
            rebuild_demo(url, 2011, persons)
        built = time.perf_counter() - started
        engine = engine_for(url)
        with Session(engine, expire_on_commit=False) as db:
            member = db.exec(
                select(User).where(User.role == Role.policy_group).order_by(col(User.id))
            ).first()
            assert member is not None
            token, _ = start_session(db, member, mfa_passed=True, address="bench", user_agent="b")
            db.commit()
            now = datetime.now(UTC)
            atoms = len(referral_cube(db, months_back(now, args.months), now))
            persons = db.exec(select(func.count()).select_from(Person)).one()
            referrals = db.exec(select(func.count()).select_from(Referral)).one()
            db.commit()

        def touch() -> None:
            # A real write through the triggers (migration 0010eqv): a new data version, the
            # same figures. The next view computes them again, as after any change.
            with Session(engine) as db:
                db.execute(
                    update(Person)
                    .where(col(Person.id) == select(func.min(col(Person.id))).scalar_subquery())
                    .values(program_status=col(Person.program_status))
                )
                db.commit()

        def view() -> float:
            started = time.perf_counter()
            response = client.get(page)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200
            return elapsed

        with TestClient(create_app(), base_url="https://testserver") as client:
            client.cookies.set(get_settings().session_cookie_name, token)
            page = f"/equity?months={args.months}"
            first = client.get(page)
            assert first.status_code == 200, first.status_code
            if args.profile:
                touch()
                profiler = cProfile.Profile()
                profiler.enable()
                client.get(page)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
            cold, warm = [], []
            for _ in range(args.iterations):  # interleaved: both see the machine's same load
                touch()
                cold.append(view())
                warm.append(view())
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        origin = (
            f"--url, {persons} persons" if args.url else f"scale {args.scale}: {persons} persons"
        )
        print(
            f"equity dashboard for a policy-group member ({backend}, {origin}, "
            f"{referrals} referrals, built in {built:.0f} s; cube of {atoms} groups; "
            f"{args.iterations} renders each; load average {os.getloadavg()[0]:.1f}):\n"
            f"  cold (first view after a change): median {statistics.median(cold):.0f} ms, "
            f"p99 {percentile(cold, 0.99):.0f} ms\n"
            f"  warm (a view of unchanged data): median {statistics.median(warm):.0f} ms, "
            f"p99 {percentile(warm, 0.99):.0f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
