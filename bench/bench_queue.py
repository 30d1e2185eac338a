"""How fast is the prosecutor's charging queue, with its filters, at N times the demo program?

Builds `hub demo --scale N --build-only` (hub.demo.services.rebuild_demo) into a scratch SQLite
file, or with --postgres a scratch PostgreSQL database, unless --url names a database built
before (run with the HUB_ keys it was built with). Names a deputy on every fifth matter of the
busiest office (scratch databases only), signs in that office's prosecutor with a session (as
the tests do), and times GET /charging through a TestClient, the whole request: the policy's
decisions for the counts, one page's disclosure and its log entry, the template. Prints the
median and p99 of --repeat requests per case, the median of the process's CPU time, and the
queue's length; asserts nothing.

    /work/venv/bin/python bench/bench_queue.py [--scale 10] [--postgres] [--url URL] [--repeat 30]
        [--compare] [--keep FILE]

--keep FILE builds into that SQLite file and keeps it, with the HUB_ keys it was built with in
FILE.env, so that later runs time it with --url (after `set -a; . FILE.env`); a scale-100
build takes about 8 minutes. Time copies if the bench writes (--name-deputies).

Target (issue 15): median at most 40 ms at 100 times the demo. NOT MET. Scale 100 (office 5:
11,852 matters, 3,552 awaiting), SQLite, --repeat 10, two interleaved runs, load average 4.4
to 5.9: wall-clock medians 79-305 ms (before, main at 70cb17f: 59-485), the process's CPU time
43-86 ms a request (before: 46-100); no filter 74-79 ms CPU (92-94), sort=due 46-51 (61-84),
the API's queue 78-80 (204-210). At a load of 1 round 1 measured 34-64 ms with main's code.
PostgreSQL (load 4.6 to 9.7, the server shared): wall-clock medians 58-406 ms (before
104-477). docs/charging-queue.md keeps each round's figures, commands, and what the profiles
showed.

The queue is cut in SQL (hub.charging.queue_sql): order, filters, page, total and counts per
state in one statement over the office's matters awaiting a decision, found by the standing
outcome kept on each matter (migration 0011que); the policy's answer on each person's intake
clock is hub.disclosure.grants_sql's condition. --compare times each case with the queue cut
in Python (queue_order.queue_keys for every matter, then queue.cut_queue; `python_cut` below)
and in SQL, requests interleaved in one process.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def python_cut(db, viewer, today, now, wanted, offset, size, clause, *, rules, count_states=False):  # type: ignore[no-untyped-def]
    """The queue as it was cut before hub.charging.queue_sql: every key built in Python
    (queue_order.queue_keys, with the policy's condition read beside them), then
    queue.cut_queue."""
    from hub.charging.queue import OfficeFacts, cut_queue
    from hub.charging.queue_order import queue_keys

    keys = queue_keys(db, viewer, today, rules=rules, clock_shown=clause)
    everyone = {k.person_id for k in keys if k.clock_shown}
    return cut_queue(
        keys,
        wanted,
        offset,
        size,
        everyone.intersection,
        OfficeFacts(db, viewer.agency_id),
        count_states=count_states,
    )


def cpu_figures(call: Callable[[], object], repeat: int) -> str:
    """Wall-clock median and p99 of `repeat` calls, and the median of the process's CPU time
    (every thread: the TestClient runs the app in its own): on a machine others load, the CPU
    time moves less than the wall clock."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        started = time.process_time()
        wall += timed(call, 1)
        cpu.append(time.process_time() - started)
    return f"{figures(wall)}   cpu {statistics.median(cpu) * 1000:6.1f} ms"


def compared(client, path: str, headers: dict[str, str], repeat: int) -> str:  # type: ignore[no-untyped-def]
    """Medians with the queue cut in Python (keys for every matter) and in SQL, requests
    interleaved in one process."""
    from unittest import mock

    before: list[float] = []
    after: list[float] = []
    for _ in range(repeat):
        with mock.patch("hub.charging.queue_sql.office_queue", python_cut):
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
            shown = cpu_figures(lambda path=path: client.get(path), repeat)
            print(f"  {name:34} {rows:3} rows   {shown}", flush=True)
        name, path = COUNTS
        hx = {"HX-Request": "true"}
        if compare:
            print(f"  {name:34}            {compared(client, path, hx, repeat)}", flush=True)
            return
        shown = cpu_figures(lambda: client.get(path, headers=hx), repeat)
        print(f"  {name:34}            {shown}", flush=True)
        # The API's queue: the same cut (queue_sql.cut_office_queue), its items read in Python.
        api = {"Authorization": f"Bearer {bearer}"}
        shown = cpu_figures(lambda: client.get("/api/v1/charging/queue", headers=api), repeat)
        print(f"  {'API queue (/api/v1/charging/queue)':34}            {shown}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--url", help="a database built before (same HUB_ keys)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--compare", action="store_true", help="time the queue cut in Python and in SQL"
    )
    parser.add_argument(
        "--name-deputies", action="store_true", help="with --url: write the deputies there too"
    )
    parser.add_argument("--keep", metavar="FILE", help="build into this SQLite file and keep it")
    args = parser.parse_args()
    if args.keep:
        secrets = ("HUB_SECRET_KEY", "HUB_DATA_KEYS", "HUB_LOG_SIGNING_KEY")  # the build's own
        Path(args.keep + ".env").write_text("".join(f"{k}={os.environ[k]}\n" for k in secrets))
        url = f"sqlite:///{Path(args.keep).resolve()}"
        build_scaled_demo(url, args.scale)
        run(url, args.repeat, scratch=True, compare=args.compare)
        return
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
