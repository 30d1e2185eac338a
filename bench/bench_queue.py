"""How fast is the prosecutor's charging queue, with its filters, at N times the demo program?

Builds `hub demo --scale N --build-only` (hub.demo.services.rebuild_demo) into a scratch SQLite
file, or with --postgres a scratch PostgreSQL database, unless --url names a database built
before (run with the HUB_ keys it was built with). Names a deputy on every fifth matter of the
busiest office (scratch databases only), signs in that office's prosecutor with a session (as
the tests do), and times GET /charging through a TestClient, the whole request: the policy's
decisions for the counts, one page's disclosure and its log entry, the template. Prints the
median and p99 of --repeat requests per case and the queue's length; asserts nothing.

    /work/venv/bin/python bench/bench_queue.py [--scale 10] [--postgres] [--url URL] [--repeat 30]
        [--compare]

Target (issue 15): median at most 40 ms at 100 times the demo. NOT MET.

Measured 2026-12-04 on the shared 2-core machine under a load average of 9 to 11 (other
engineers' tests), so every figure swings by half between runs; --repeat 10, SQLite:

    scale   office's matters (awaiting)   no filter   state=missed   sort=due   counts
    1       111 (38 on page 1)            48-148 ms    49-80 ms      62-99 ms   38-97 ms
    10      1,161 (353)                   127 ms      118 ms        100 ms      97 ms
    100     11,852 (3,552)                483-537 ms  397-438 ms    190-273 ms  678-742 ms
    100, main before this branch          332-1031 ms 485-688 ms    368 ms      690 ms

(scale 100: /work/scale100's build copied and migrated, `--url sqlite:////tmp/...`; main's
figures from main's code on an unmigrated copy, run just before.) Timed interleaved in one
process, 15 times each, at scale 100: queue_keys 229 -> 104 ms with migration 0009pro's
covering indexes (its SQL alone 131 -> 34 ms); the deputies and requests for more
information read for the page instead of the office, 48.5 -> 6.5 ms.

--compare times each case without and with the policy's answer on the intake clock in SQL
(hub.disclosure.grants_sql, read by queue_keys' one query), requests interleaved in one process;
"before" patches it away, so the queue asks record.allowed_persons for as few persons as the
page needs (rounds of gather_facts_many). Scale 100, --repeat 10, load average 3.6 to 4.5,
two runs (medians, ms):

    case              before      after
    no filter         163-168     125-166
    state=missed      137-138     123-128
    state=not_shared  373         156
    sort=due          100-121      90-97
    counts            441-486     115-151

At scale 1 (--scale 1 --repeat 15 --compare, two runs, load 5 to 9) before and after are
within noise of each other: no filter 20-62 / 21-44 ms, state=missed 17-35 / 18-41 ms,
counts 14-44 / 14-24 ms.

What still dominates at scale 100: queue_keys, the SQL with the clock's condition and the
3,552 keys built in Python (~100 ms; the datetimes parsed and put in the site's time zone),
then the page's disclosure (~20 ms). Reaching 40 ms needs the order, the filters and the
counts in SQL (LIMIT, GROUP BY) instead of keys in Python: the deadline state and the arrest
date are dates in the site's time zone (clock_status), which SQLite cannot compute; a
transition table of the zone's offsets, or stored local dates (a migration), would allow it.
"""

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # sign no checkpoints while timing
os.environ["HUB_FLAGS_INTERVAL_SECONDS"] = "3600"  # nor compute review flags (the write lock)
os.environ["HUB_COOKIE_SECURE"] = "false"

from timing import build_scaled_demo, figures, timed

from bench.scratch import scratch_postgres

CASES = (
    ("no filter", ""),
    ("state=missed", "state=missed"),
    ("state=not_shared", "state=not_shared"),
    ("state=pending", "state=pending"),
    ("outcome=more_information", "outcome=more_information"),
    ("deputy=<one>", "deputy={deputy}"),
    ("unassigned", "unassigned=true"),
    ("sort=due", "sort=due"),
    ("sort=arrest, page 2", "sort=arrest&page=2"),
    ("state=pending, sort=due, page 3", "state=pending&sort=due&page=3"),
)
# The counts per state decide every person with a clock: htmx asks for them apart.
COUNTS = ("counts per state (/charging/counts)", "/charging/counts")


def busiest_office(db):  # type: ignore[no-untyped-def]
    """The prosecutor (the first by id) of the office with the most matters."""
    from sqlmodel import col, func, select

    from hub.accounts.models import User
    from hub.charging.models import ChargingMatter
    from hub.vocabulary import Role, UserStatus

    office, matters = db.exec(
        select(ChargingMatter.prosecuting_agency_id, func.count())
        .group_by(col(ChargingMatter.prosecuting_agency_id))
        .order_by(func.count().desc())
    ).first()
    user = db.exec(
        select(User)
        .where(
            User.agency_id == office,
            User.role == Role.prosecutor,
            User.status == UserStatus.active,
        )
        .order_by(col(User.id))
    ).first()
    return user, matters


def name_deputies(db, prosecutor) -> int:  # type: ignore[no-untyped-def]
    """A deputy on every fifth matter of the office (bench data, scratch databases only)."""
    from sqlmodel import col, select

    from hub.charging.models import ChargingMatter, MatterDeputy

    ids = db.exec(
        select(ChargingMatter.id)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
        .order_by(col(ChargingMatter.id))
    ).all()
    db.add_all(
        MatterDeputy(matter_id=m, deputy_id=prosecutor.id, assigned_by_id=prosecutor.id)
        for m in ids[::5]
    )
    db.commit()
    return len(ids[::5])


def compared(client, path: str, headers: dict[str, str], repeat: int) -> str:  # type: ignore[no-untyped-def]
    """Medians without and with the policy's clock answer in SQL, requests interleaved: without,
    the queue asks hub.disclosure.record.allowed_persons for as few persons as the page needs,
    as before hub.disclosure.grants_sql."""
    from unittest import mock

    before: list[float] = []
    after: list[float] = []
    for _ in range(repeat):
        with mock.patch("hub.charging.queue_routes.clause_in_force", return_value=None):
            before += timed(lambda: client.get(path, headers=headers), 1)
        after += timed(lambda: client.get(path, headers=headers), 1)
    return (
        f"before {statistics.median(before) * 1000:6.1f} ms   "
        f"after {statistics.median(after) * 1000:6.1f} ms"
    )


def run(url: str, repeat: int, scratch: bool, compare: bool = False) -> None:
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from hub.accounts.own_access import create_api_token
    from hub.accounts.sessions import start_session
    from hub.audit.log import Actor
    from hub.db import engine_for
    from hub.settings import get_settings
    from hub.web.app import create_app

    os.environ["HUB_DATABASE_URL"] = url
    get_settings.cache_clear()
    with Session(engine_for(url), expire_on_commit=False) as db:
        prosecutor, matters = busiest_office(db)
        named = name_deputies(db, prosecutor) if scratch else 0
        token, _ = start_session(db, prosecutor, mfa_passed=True, address="bench", user_agent="b")
        bearer = create_api_token(db, Actor(user_id=prosecutor.id), prosecutor, "bench", 1)
        db.commit()
        deputy = prosecutor.id
    print(f"office {prosecutor.agency_id}: {matters} matters, {named} with a deputy named here")
    with TestClient(create_app(), base_url="https://testserver") as client:
        client.cookies.set(get_settings().session_cookie_name, token)
        first = client.get("/charging")
        assert first.status_code == 200, first.status_code
        for name, query in CASES:
            path = "/charging?" + query.format(deputy=deputy)
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            rows = response.text.count("<tr data-matter=")
            if compare:
                print(f"  {name:34} {rows:3} rows   {compared(client, path, {}, repeat)}")
                continue
            samples = timed(lambda path=path: client.get(path), repeat)
            print(f"  {name:34} {rows:3} rows   {figures(samples)}", flush=True)
        name, path = COUNTS
        hx = {"HX-Request": "true"}
        if compare:
            print(f"  {name:34}            {compared(client, path, hx, repeat)}", flush=True)
            return
        samples = timed(lambda: client.get(path, headers=hx), repeat)
        print(f"  {name:34}            {figures(samples)}", flush=True)
        # For comparison: the API's queue, which still runs the queue code main had.
        api = {"Authorization": f"Bearer {bearer}"}
        samples = timed(lambda: client.get("/api/v1/charging/queue", headers=api), repeat)
        print(f"  {'API queue (the earlier code)':34}            {figures(samples)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--url", help="a database built before (same HUB_ keys)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--compare", action="store_true", help="time without and with the clock answer in SQL"
    )
    parser.add_argument(
        "--name-deputies", action="store_true", help="with --url: write the deputies there too"
    )
    args = parser.parse_args()
    if args.url:
        run(args.url, args.repeat, scratch=args.name_deputies, compare=args.compare)
        return
    with ExitStack() as stack:
        if args.postgres:
            url = stack.enter_context(scratch_postgres())
        else:
            directory = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(directory) / 'queue.db'}"
        build_scaled_demo(url, args.scale)
        print(f"scale {args.scale} ({'PostgreSQL' if args.postgres else 'SQLite'})")
        run(url, args.repeat, scratch=True, compare=args.compare)


if __name__ == "__main__":
    main()
