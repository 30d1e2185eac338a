"""How fast is the prosecutor's charging queue, with its filters, at N times the demo program?

Builds `hub demo --scale N --build-only` (hub.demo.services.rebuild_demo) into a scratch SQLite
file, or with --postgres a scratch PostgreSQL database, unless --url names a database built
before (run with the HUB_ keys it was built with). Names a deputy on every fifth matter of the
busiest office (scratch databases only), signs in that office's prosecutor with a session (as
the tests do), and times GET /charging through a TestClient, the whole request: the policy's
decisions for the counts, one page's disclosure and its log entry, the template. Prints the
median and p99 of --repeat requests per case and the queue's length; asserts nothing.

    /work/venv/bin/python bench/bench_queue.py [--scale 10] [--postgres] [--url URL] [--repeat 30]
        [--compare] [--keep FILE]

--keep FILE builds into that SQLite file and keeps it, with the HUB_ keys it was built with in
FILE.env, so that later runs time it with --url (after `set -a; . FILE.env`); a scale-100
build takes about 8 minutes. Time copies if the bench writes (--name-deputies).

Target (issue 15): median at most 40 ms at 100 times the demo. NOT MET for every case: with
SQLite at a load average of 1, 34-64 ms (no filter 48 ms; 3 of the 11 cases under 40 in some
run: state=pending, a deputy, the counts), against 68-96 ms with the queue cut in Python and
1.8-3.1 s for main's code on the same build; at a load of 3 to 4, 33-113 ms. With PostgreSQL,
51-146 ms (143-223 ms cut in Python). The process's CPU time per request (time.process_time,
SQLite, 15 interleaved, load 4): no filter 56 ms (95 cut in Python), state=missed 46 (87), the
counts 40 (77), sort=arrest page 2 42 (68).

Since this branch the queue is cut in SQL (hub.charging.queue_sql.office_queue): the order,
filters, page (ORDER BY ... LIMIT), total (COUNT(*) OVER ()) and counts per state (GROUP BY)
are the database's, and only the page's 50 rows reach Python. The arrest's day and the day
intake was completed are the site's local days, computed in SQL by hub.site_clock.SiteClock
(PostgreSQL's zone database; on SQLite the zone's UTC offsets as a CASE over the few changes
since the office's first arrest): no stored local dates, so nothing to keep up when a
timestamp or the site's zone changes. The policy's answer on each person's clock is still
hub.disclosure.grants_sql's condition, read once per row in a MATERIALIZED CTE and only for
the rows whose order, filter or count needs it (a met clock is ripe either way), with the
office_matter relationship given (every row is a matter of the office). A policy grants_sql
cannot state still takes the Python path (queue_order.queue_keys and queue.cut_queue).
Migration 0010que adds an index of a person's matters at an office: without it SQLite
answered office_matter by walking all of the office's matters for every row, which is what
made main's code take seconds on a fresh scale-100 build.

--compare times each case with the queue cut in Python (keys for every matter, as before
queue_sql; `python_cut` below, on the same migrated database) and in SQL, requests
interleaved in one process. Scale 100 (office 5: 11,852 matters, 3,552 awaiting a decision),
--repeat 10, medians in ms, 2026-12-04/05, `uptime`'s load average beside each column:

                                              SQLite                        PostgreSQL
    case                               main*  load 1   load 3-4           load 1-3.5
                                              Py / SQL  Py / SQL           Py / SQL
    no filter                          2382    82 / 48  108-146 / 71-85    208 / 114-116
    state=missed                       2703    83 / 44  102-123 / 55-73    143-158 / 102-109
    state=not_shared                   2709    82 / 51   88-136 / 54-82    151-164 / 102-109
    state=pending                      2582    68 / 47   71-114 / 33-77    158-174 / 80-150
    outcome=more_information           1931    86 / 40   87-142 / 42-72    191-223 / 59-70
    deputy=<one>                       1850    86 / 34   88-196 / 35-81    146-169 / 54-64
    unassigned                         2566    90 / 49  124-212 / 68-113   166 / 109-110
    sort=due                            243    75 / 48   76-132 / 52-88     73-82 / 51-52
    sort=arrest, page 2                  79    79 / 52   66-158 / 41-96     82-92 / 52-56
    state=pending, sort=due, page 3    1957    96 / 64   66-154 / 46-113   156-180 / 142-146
    counts (/charging/counts)          3109    94 / 53   71-171 / 38-118   175-189 / 85-86

    * main's code (e9615fb) on an unmigrated copy of the same SQLite build, run just before
      (load average 5.8 to 6.0). Earlier SQL runs still read a page the counts did not show,
      and a second count for an empty first page (state=pending); the last runs do neither.
      PostgreSQL: a build kept in a database of its own (rebuild_demo with the same keys),
      `--url postgresql+psycopg://postgres@127.0.0.1:5432/<db> --repeat 10 --compare`; an
      earlier scratch build (--postgres --scale 100 --compare, load 4 to 6) gave 40-196 ms.

At scale 10 with PostgreSQL (--postgres --scale 10 --compare, load 4 to 5) the two are alike
(no filter 127 / 123 ms, counts 42 / 42) and a filter on a rare state is slower in SQL
(state=pending 57 / 74, page 3 of it 44 / 72): below a few hundred matters building the keys
costs less than the larger statement.

The build: main's rebuild_demo at scale 100 into a kept file with its HUB_ keys (what --keep
does now), 494 s; each column times a copy (`hub migrate`d for this branch) with
`--url sqlite:////tmp/copy.sqlite --name-deputies --repeat 10 [--compare]`.

What the SQL request spends at scale 100 (SQLite, one process, load average 4 to 6): the
page's query 21-35 ms, of which ~12-15 ms read the office's 11,852 matters and test each for
a standing decision, ~4 ms the local days, the rest the policy's condition for the running
clocks; then the page's disclosure (disclose_identities: gather_facts_many for 50 persons and
one log entry, committed with a WAL fsync) ~20 ms, the template ~5 ms, and the session, CSRF
and middleware ~10 ms. With PostgreSQL (EXPLAIN ANALYZE, load 1) office_queue's page query
takes 36 ms: a hash anti join for the decided matters (6 ms), then a hashed subplan that reads
all 35,329 consents for the policy's condition (17 ms); the whole office_queue call 40 ms, the
request about 110 (the page's disclosure is dearer there, one round trip per query). Next
steps, not done here: the standing outcome kept on the matter (indexed with the office and
arrest) so that decided matters leave the scan; the consents read by person on PostgreSQL too;
a cheaper page disclosure.
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


def compared(client, path: str, headers: dict[str, str], repeat: int) -> str:  # type: ignore[no-untyped-def]
    """Medians with the queue cut in Python (keys for every matter) and in SQL, requests
    interleaved in one process."""
    from unittest import mock

    before: list[float] = []
    after: list[float] = []
    for _ in range(repeat):
        with mock.patch("hub.charging.queue_routes.office_queue", python_cut):
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
        # For comparison: the API's queue, which still builds every item in Python.
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
