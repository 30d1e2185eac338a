"""How long a work-group agenda of 40 items takes to render for a prosecutor, through the real
route (GET /work-group/meetings/{id}) with a TestClient, on SQLite with the demo program's data:
every item decided and read through the policy, one disclosure entry appended per item, one
commit. Also the live agenda's poll when nothing changed (a version check: no disclosure), with
its CPU beside a bare GET /healthz, and the poll after one item changed (only it is sent).

    .venv/bin/python bench/bench_agenda.py [--items 40] [--iterations 100] [--persons 300]

Prints median and p99 in milliseconds; asserts nothing.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import scratch_demo, session_token
from hub.crypto import generate_environment

os.environ.update({k: v for k, v in generate_environment().items() if k not in os.environ})
os.environ["HUB_CHECKPOINT_INTERVAL_SECONDS"] = "3600"  # sign no checkpoints while timing

CATEGORIES = ("legal", "housing", "engagement", "treatment", "plan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seat(db, items: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A published meeting of `items` client items (the prosecutor's office's matters first),
    each with one update; returns (meeting id, prosecutor's user id)."""
    from datetime import timedelta

    from sqlmodel import col, select

    from hub.accounts.models import User
    from hub.accounts.sessions import viewer_for
    from hub.audit.log import Actor
    from hub.charging.models import ChargingMatter
    from hub.clients.models import Person
    from hub.db import utcnow
    from hub.vocabulary import Role
    from hub.workgroup import agenda_edits, schedule

    def user(role: Role) -> User:
        found = db.exec(select(User).where(User.role == role).order_by(col(User.id))).first()
        assert found is not None
        return found

    coordinator, prosecutor = user(Role.coordinator), user(Role.prosecutor)
    viewer = viewer_for(db, coordinator)
    actor = Actor(user_id=coordinator.id, role=coordinator.role.value, request_id="bench")
    office = list(
        db.exec(
            select(ChargingMatter.person_id)
            .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
            .distinct()
        )
    )
    others = [p for p in db.exec(select(Person.id).order_by(col(Person.id))) if p not in office]
    persons = (office + others)[:items]
    meeting = schedule.create_meeting(
        db,
        viewer,
        schedule.MeetingForm(
            "Bench", utcnow() + timedelta(days=1), "Room B", None, [prosecutor.id]
        ),
        actor,
    )
    for n, person_id in enumerate(persons):
        category = CATEGORIES[n % len(CATEGORIES)]
        agenda_edits.add_manual_item(
            db,
            viewer,
            meeting.id,  # type: ignore[arg-type]
            actor,
            person_id=person_id,
            category=category,
            text=f"An update on {category} for the work group.",
        )
    schedule.publish(db, viewer, meeting.id, actor)  # type: ignore[arg-type]
    return meeting.id, prosecutor.id  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--persons", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        engine = scratch_demo(scratch, args.persons)
        from fastapi.testclient import TestClient
        from sqlmodel import Session

        from hub.accounts.models import User
        from hub.settings import get_settings
        from hub.web.app import create_app

        with Session(engine, expire_on_commit=False) as db:
            meeting_id, prosecutor_id = seat(db, args.items)
            prosecutor = db.get(User, prosecutor_id)
            assert prosecutor is not None
            token = session_token(db, prosecutor)
        with TestClient(create_app(), base_url="https://testserver") as client:
            client.cookies.set(get_settings().session_cookie_name, token)
            page = f"/work-group/meetings/{meeting_id}"
            first = client.get(page)
            assert first.status_code == 200, first.status_code
            shown = first.text.count('<li id="item-')
            timings = []
            for _ in range(args.iterations):
                started = time.perf_counter()
                response = client.get(page)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            version = first.text.split("since=", 1)[1].split('"', 1)[0]
            polls, poll_cpu, bare_cpu = [], [], []
            for _ in range(args.iterations):
                started, cpu = time.perf_counter(), time.process_time()
                response = client.get(f"{page}/live", params={"since": version})
                polls.append((time.perf_counter() - started) * 1000)
                poll_cpu.append((time.process_time() - cpu) * 1000)
                assert response.status_code == 204
                # The same client's cost for a page that reads nothing: the floor under a poll.
                cpu = time.process_time()
                assert client.get("/healthz").status_code == 200
                bare_cpu.append((time.process_time() - cpu) * 1000)
            # One item changes (a coordinator's note the prosecutor may see) before each poll:
            # the answer carries that item only, and one disclosure entry.
            changes, sent_items = [], []
            with Session(engine, expire_on_commit=False) as desk:
                note_on = changed_item(desk, meeting_id)
                for n in range(args.iterations):
                    add_note(desk, note_on, n)
                    started = time.perf_counter()
                    response = client.get(f"{page}/live", params={"since": version})
                    changes.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                    sent_items.append(response.text.count('<li id="item-'))
                    version = response.text.split('data-version="', 1)[1].split('"', 1)[0]
        print(
            f"agenda of {shown} items for a prosecutor (SQLite, {args.persons} demo persons, "
            f"{args.iterations} renders): median {statistics.median(timings):.1f} ms, "
            f"p99 {percentile(timings, 0.99):.1f} ms"
        )
        print(
            f"live poll, unchanged (204, no disclosure): median {statistics.median(polls):.2f} ms, "
            f"p99 {percentile(polls, 0.99):.2f} ms; CPU (client and server) median "
            f"{statistics.median(poll_cpu):.2f} ms against {statistics.median(bare_cpu):.2f} ms "
            "for GET /healthz"
        )
        print(
            f"live poll after one item changed: median {statistics.median(changes):.2f} ms, "
            f"p99 {percentile(changes, 0.99):.2f} ms; items sent per answer: "
            f"{min(sent_items)} to {max(sent_items)} of {shown}"
        )
        engine.dispose()


def changed_item(db, meeting_id: int):  # type: ignore[no-untyped-def]
    """The first client item whose legal category the prosecutor sees (their office's)."""
    from hub.workgroup.access import items_on

    return items_on(db, meeting_id)[0]


def add_note(db, item, n: int) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import col, select

    from hub.accounts.models import User
    from hub.accounts.sessions import viewer_for
    from hub.audit.log import Actor
    from hub.vocabulary import Category, ItemEntryKind, Role
    from hub.workgroup import at_the_table

    coordinator = db.exec(
        select(User).where(User.role == Role.coordinator).order_by(col(User.id))
    ).first()
    at_the_table.add_entry(
        db,
        viewer_for(db, coordinator),
        item.id,
        ItemEntryKind.note,
        Category.legal,
        f"Note {n} from the table.",
        Actor(user_id=coordinator.id, role=coordinator.role.value, request_id="bench"),
    )


if __name__ == "__main__":
    main()
