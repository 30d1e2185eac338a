"""How long the coordinator's draft agenda takes to render with its proposals, through the real
route (GET /work-group/meetings/{id}) with a TestClient, on SQLite with the demo program's data:
every group (each proposal disclosed and logged), one group by the filter (all decided to count
them, only that group disclosed), and with the dismissed ones listed.

    .venv/bin/python bench/bench_proposals.py [--iterations 40] [--persons 300]

Prints the number of proposals and median and p99 in milliseconds; asserts nothing.
"""

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import figures, scratch_demo, session_token, timed
from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # sign no checkpoints while timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--persons", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        engine = scratch_demo(scratch, args.persons)
        from fastapi.testclient import TestClient
        from sqlmodel import Session, col, select

        from hub.accounts.models import User
        from hub.settings import get_settings
        from hub.vocabulary import MeetingStatus, Role
        from hub.web.app import create_app
        from hub.workgroup.models import WorkGroupMeeting

        with Session(engine, expire_on_commit=False) as db:
            coordinator = db.exec(
                select(User).where(User.role == Role.coordinator).order_by(col(User.id))
            ).first()
            draft = db.exec(
                select(WorkGroupMeeting.id).where(WorkGroupMeeting.status == MeetingStatus.draft)
            ).first()
            assert coordinator is not None and draft is not None
            token = session_token(db, coordinator)
        page = f"/work-group/meetings/{draft}"
        with TestClient(create_app(), base_url="https://testserver") as client:
            client.cookies.set(get_settings().session_cookie_name, token)
            first = client.get(page)
            assert first.status_code == 200, first.status_code
            proposals = first.text.count("<li data-proposal=")
            groups = first.text.count('<div class="proposal-group"')
            # The dismiss form of the first proposal, so that "with dismissed" lists one.
            first_token = first.text.split('<li data-proposal="', 1)[1].split('"', 1)[0]
            csrf = first.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            dismissed = client.post(
                f"{page}/dismissals",
                data={"token": first_token, "reason": "already_handled", "csrf_token": csrf},
                follow_redirects=False,
            )
            assert dismissed.status_code == 303, dismissed.status_code
            after = client.get(page).text
            smallest = min(
                re.findall(r'data-filter="(\w+)">[^<]*\((\d+)\)', after), key=lambda g: int(g[1])
            )[0]
            cases = {
                "every group": {},
                f"one group ({smallest}, the smallest)": {"reason": smallest},
                "every group, dismissed listed": {"dismissed": "true"},
            }
            for name, params in cases.items():
                response = client.get(page, params=params)
                assert response.status_code == 200
                samples = timed(lambda p=params: client.get(page, params=p), args.iterations)
                shown = response.text.count("<li data-proposal=")
                print(
                    f"draft, {name}: {shown} of {proposals - 1} proposals shown "
                    f"({response.text.count('<li data-dismissal=')} dismissed listed) in "
                    f"{groups} groups (SQLite, {args.persons} demo persons, "
                    f"{args.iterations} renders): {figures(samples)}"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
