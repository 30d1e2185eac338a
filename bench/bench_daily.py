"""How fast are the pages issue 17 reworked, at N times the demo program?

The intake queue's two tabs (current work; deadlines missed long ago), the officer's
notifications (each line naming its referral, through the policy layer), and the sergeant's
overrides with their approve actions: each through a TestClient, the whole request (the
policy's decisions, the page's disclosure entry, the template), as the busiest case
manager, the officer with the most notifications and the first sergeant.

Builds `hub demo --scale N --build-only` into a scratch SQLite file (or with --postgres a
scratch PostgreSQL database), unless --url names a database built before: run it then with the
HUB_ keys it was built with, on a copy (the pages append disclosure entries).

    .venv/bin/python bench/bench_daily.py [--scale 1] [--postgres] [--url URL] [--repeat 30]

Prints median and p99 per page and the rows each shows; asserts nothing. Figures: see
docs/daily-use.md.
"""

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # sign no checkpoints while timing
os.environ["HUB_COOKIE_SECURE"] = "false"

from timing import build_scaled_demo, figures, timed

from bench.scratch import scratch_postgres


def first_user(db, role, agency_id=None):  # type: ignore[no-untyped-def]
    from sqlmodel import col, select

    from hub.accounts.models import User
    from hub.vocabulary import UserStatus

    query = select(User).where(User.role == role, User.status == UserStatus.active)
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return db.exec(query.order_by(col(User.id))).first()


def busiest(db):  # type: ignore[no-untyped-def]
    """(case manager of the agency with the most referrals, officer with the most
    notifications, the first sergeant)."""
    from sqlmodel import col, func, select

    from hub.accounts.models import User
    from hub.notifications.models import Notification
    from hub.referrals.models import Referral
    from hub.vocabulary import Role

    agency = db.exec(
        select(Referral.case_management_agency_id)
        .group_by(col(Referral.case_management_agency_id))
        .order_by(func.count().desc())
    ).first()
    officer_id = db.exec(
        select(Notification.user_id)
        .join(User, col(User.id) == Notification.user_id)
        .where(User.role == Role.officer)
        .group_by(col(Notification.user_id))
        .order_by(func.count().desc())
    ).first()
    officer = db.get(User, officer_id) if officer_id else first_user(db, Role.officer)
    return (
        first_user(db, Role.case_manager, agency),
        officer,
        first_user(db, Role.sergeant),
    )


def run(url: str, repeat: int) -> None:
    from fastapi.testclient import TestClient
    from sqlmodel import Session, func, select

    from hub.accounts.sessions import start_session
    from hub.db import engine_for
    from hub.notifications.models import Notification
    from hub.settings import get_settings
    from hub.web.app import create_app

    os.environ["HUB_DATABASE_URL"] = url
    get_settings.cache_clear()
    tokens = {}
    with Session(engine_for(url), expire_on_commit=False) as db:
        users = dict(zip(("case manager", "officer", "sergeant"), busiest(db), strict=True))
        for name, user in users.items():
            tokens[name], _ = start_session(
                db, user, mfa_passed=True, address="bench", user_agent="b"
            )
        notes = db.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == users["officer"].id)
        ).one()
        db.commit()
    print(f"the officer has {notes} notifications", flush=True)
    cases = (
        ("case manager", "intake, current work", "/intake", "<tr"),
        ("case manager", "intake, missed long ago", "/intake?tab=older", "<tr"),
        ("officer", "notifications", "/notifications", "<li class="),
        ("sergeant", "overrides", "/referrals/overrides", "<tr"),
        # For comparison: a signed-in page with no client data (session, nav, template).
        ("officer", "home (no client data)", "/", "<tr"),
    )
    with TestClient(create_app(), base_url="https://testserver") as client:
        for who, name, path, row in cases:
            client.cookies.set(get_settings().session_cookie_name, tokens[who])
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            rows = response.text.count(row)
            samples = timed(lambda path=path: client.get(path), repeat)
            print(f"  {name:26} {rows:4} rows   {figures(samples)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--url", help="a database built before (same HUB_ keys), a copy")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.repeat)
        return
    with ExitStack() as stack:
        if args.postgres:
            url = stack.enter_context(scratch_postgres())
        else:
            directory = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(directory) / 'daily.db'}"
        build_scaled_demo(url, args.scale)
        print(f"scale {args.scale} ({'PostgreSQL' if args.postgres else 'SQLite'})")
        run(url, args.repeat)


if __name__ == "__main__":
    main()
