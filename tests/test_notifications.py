"""Notifications: who is told what, with no personal data, once per event."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from hub.charging.deciding import record_decision
from hub.clients.models import Person
from hub.db import ident
from hub.notifications.models import Notification
from hub.notifications.services import (
    TEXTS,
    NotificationError,
    mark_all_read,
    mark_read,
    notification_lines,
    notifications_for,
    notify,
    sweep_deadlines,
    unread_count,
)
from hub.referrals.caseloads import assign_to_caseload
from hub.referrals.intake_clock import record_intake, record_screening
from hub.vocabulary import NotificationKind


def kinds_of(db, user):
    return [(n.kind, n.link) for n in notifications_for(db, user.id)]


def test_a_new_referral_tells_the_case_management_agency(world):
    referral, _ = world.arrest()
    for name in ("case_manager", "case_manager2", "supervisor"):
        assert kinds_of(world.db, world.users[name]) == [
            (NotificationKind.new_referral, f"/referrals/{referral.id}")
        ]
    for name in ("other_case_manager", "officer", "county_prosecutor"):
        assert notifications_for(world.db, world.users[name].id) == []


def test_a_decision_tells_the_referring_officer_without_personal_data(world):
    referral, matter = world.arrest()
    person = world.db.get(Person, referral.person_id)
    record_decision(
        world.db,
        world.viewer("county_prosecutor"),
        matter.id,
        "decline",
        ["insufficient-evidence"],
        "Declined for Mr. X",
        [],
        world.actor("county_prosecutor"),
        rules=world.rules,
    )
    [note] = notifications_for(world.db, world.users["officer"].id)
    assert note.text == "A referral you made has a new charging decision"
    assert note.link == f"/referrals/{referral.id}"
    for field in (person.first_name, person.last_name, matter.offense_tracking_number, "Mr. X"):
        assert field not in note.text and field not in (note.link or "")
    assert notifications_for(world.db, world.users["officer2"].id) == []


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_text_is_fixed_and_short(kind):
    assert TEXTS[kind] and len(TEXTS[kind]) <= 200 and "{" not in TEXTS[kind]


def test_the_deadline_sweep_is_idempotent_and_follows_the_clock(world):
    db = world.db
    now = datetime.now(UTC)
    today = now.astimezone(world.rules.tz).date()
    near, _ = world.arrest(now=now - timedelta(days=25))
    missed, _ = world.arrest(now=now - timedelta(days=31))
    world.arrest(now=now - timedelta(days=2))  # pending: no note
    done, _ = world.arrest(now=now - timedelta(days=40))  # complete, late: no note
    cm, actor = world.viewer("case_manager"), world.actor("case_manager")
    record_screening(db, cm, done.id, actor, at=done.referred_at + timedelta(days=1))
    record_intake(db, cm, done.id, [], actor, at=done.referred_at + timedelta(days=35))
    # The near referral has a caseload: only its holder hears of it.
    record_screening(db, cm, near.id, actor)
    assign_to_caseload(
        db,
        world.viewer("supervisor"),
        near.person_id,
        world.users["case_manager2"].id,
        world.actor("supervisor"),
    )

    def deadline_notes():
        return sorted(
            (n.user_id, n.kind.value, n.link)
            for n in db.exec(
                select(Notification).where(
                    col(Notification.kind).in_(
                        [NotificationKind.deadline_near, NotificationKind.deadline_missed]
                    )
                )
            )
        )

    created = sweep_deadlines(db, today, rules=world.rules)
    agency = sorted(world.users[n].id for n in ("case_manager", "case_manager2", "supervisor"))
    expected = sorted(
        [(world.users["case_manager2"].id, "deadline_near", f"/referrals/{near.id}")]
        + [(u, "deadline_missed", f"/referrals/{missed.id}") for u in agency]
    )
    assert deadline_notes() == expected
    assert created == len(expected)
    assert sweep_deadlines(db, today, rules=world.rules) == 0
    assert deadline_notes() == expected
    # A week on, the near one is missed: one new note; the rest stay as they were.
    assert sweep_deadlines(db, today + timedelta(days=7), rules=world.rules) == 1
    assert sweep_deadlines(db, today + timedelta(days=7), rules=world.rules) == 0


def test_a_user_reads_only_their_own_notifications(world):
    world.arrest()
    cm = world.users["case_manager"]
    [note] = notifications_for(world.db, cm.id)
    assert unread_count(world.db, cm.id) == 1
    with pytest.raises(NotificationError, match="no such notification"):
        mark_read(world.db, world.users["case_manager2"].id, ident(note.id))
    with pytest.raises(NotificationError, match="no such notification"):
        mark_read(world.db, cm.id, 10_000)
    first = mark_read(world.db, cm.id, ident(note.id)).read_at
    assert first is not None
    assert mark_read(world.db, cm.id, ident(note.id)).read_at == first
    assert unread_count(world.db, cm.id) == 0
    assert notifications_for(world.db, cm.id, unread_only=True) == []
    assert unread_count(world.db, world.users["case_manager2"].id) == 1


# --- the list: newest first, identical notes on one line, mark all read ----------------------

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _note(db, user, kind, link, at, key):
    note = Notification(
        user_id=user.id, kind=kind, text=TEXTS[kind], link=link, dedupe_key=key, created_at=at
    )
    db.add(note)
    db.commit()
    return note


def _officer_with_many_decisions(world):
    """34 decisions on one referral, written out of date order, and one older other note."""
    officer, db = world.users["officer"], world.db
    decided = NotificationKind.decision_on_referral
    for n in range(34):
        # Ids rise while the times jump about: the list must sort by time, not by id.
        _note(db, officer, decided, "/referrals/7", NOON + timedelta(hours=(n * 7) % 34), f"d{n}")
    _note(db, officer, NotificationKind.new_referral, "/referrals/8", NOON - timedelta(days=1), "n")
    _note(db, officer, decided, "/referrals/9", NOON + timedelta(hours=5), "d-other")
    return officer


def test_identical_notifications_are_one_line_newest_first(world):
    officer = _officer_with_many_decisions(world)
    times = [n.created_at for n in notifications_for(world.db, officer.id)]
    assert times == sorted(times, reverse=True)
    lines = notification_lines(world.db, officer.id)
    assert [(line.link, line.count, line.unread) for line in lines] == [
        ("/referrals/7", 34, 34),
        ("/referrals/9", 1, 1),
        ("/referrals/8", 1, 1),
    ]
    assert lines[0].newest_at == NOON + timedelta(hours=33)
    # Opening the line opens its newest note and marks the whole line read, nothing else.
    mark_read(world.db, officer.id, lines[0].id)
    assert [line.unread for line in notification_lines(world.db, officer.id)] == [0, 1, 1]


def test_mark_all_read_marks_only_the_users_own(world):
    world.arrest()
    officer = _officer_with_many_decisions(world)
    cm, cm2 = world.users["case_manager"], world.users["case_manager2"]
    assert mark_all_read(world.db, officer.id) == 36
    assert unread_count(world.db, officer.id) == 0
    assert mark_all_read(world.db, officer.id) == 0
    assert unread_count(world.db, cm.id) == unread_count(world.db, cm2.id) == 1


def _unread(db, user):
    """Read between requests: the test's session lets go of SQLite's lock at once."""
    count = unread_count(db, user.id)
    db.commit()
    return count


def test_the_officer_marks_all_read_from_the_page(world, sign_in, db):
    world.arrest()
    officer = _officer_with_many_decisions(world)
    user = sign_in(user=officer)
    page = user.client.get("/notifications").text
    assert page.count(TEXTS[NotificationKind.decision_on_referral]) == 2
    assert "(34 times, 34 unread)" in page
    lines = notification_lines(db, officer.id)
    db.commit()
    at = [page.index(f"/notifications/{line.id}/read") for line in lines]
    assert len(at) == 3 and at == sorted(at)
    assert 'action="/notifications/read-all"' in page
    # Without the CSRF token nothing changes.
    assert user.client.post("/notifications/read-all").status_code == 403
    assert _unread(world.db, officer) == 36
    # Without JavaScript: a plain form post, back to the list.
    done = user.client.post(
        "/notifications/read-all",
        data={"csrf_token": user.csrf_token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/notifications"
    assert _unread(world.db, officer) == 0
    page = user.client.get("/notifications").text
    assert "Mark all read" not in page and "(34 times)" in page
    assert 'class="badge"' not in user.client.get("/notifications/badge").text
    assert _unread(world.db, world.users["case_manager"]) == 1


def test_mark_all_read_with_htmx_swaps_the_list(world, sign_in):
    officer = _officer_with_many_decisions(world)
    user = sign_in(user=officer)
    fragment = user.post("/notifications/read-all", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="notifications"' in fragment.text and "(34 times)" in fragment.text
    assert "Mark all read" not in fragment.text
    assert _unread(world.db, officer) == 0


def test_notifications_name_the_record_they_are_about_and_no_person(world, sign_in, db):
    """Issue 17, item 4: a line says which referral it is about; the person is named only on
    the page it opens, through the policy layer (a notification holds no personal data)."""
    referral, _ = world.arrest()
    person = world.db.get(Person, referral.person_id)
    link = f"/referrals/{referral.id}"
    notify(db, [world.users["officer"].id], NotificationKind.decision_on_referral, link, "k")
    db.commit()
    page = sign_in(user=world.users["officer"]).client.get("/notifications").text
    assert (
        f"{TEXTS[NotificationKind.decision_on_referral]}: <strong>Referral {referral.id}</strong>"
        in page
    )
    assert person.last_name not in page and person.first_name not in page


def test_many_notifications_come_a_page_at_a_time_newest_first(world, sign_in, db):
    officer = world.users["officer"]
    for i in range(1, 56):
        notify(db, [officer.id], NotificationKind.decision_on_referral, f"/referrals/{i}", f"d{i}")
    db.commit()
    user = sign_in(user=officer)
    first = user.client.get("/notifications").text
    assert "Rows 1\u201350 of 55." in first and 'href="/notifications?page=2"' in first
    second = user.client.get("/notifications?page=2").text
    assert second.count('<li class="unread">') == 5
    # Mark all read still marks every page's notes.
    assert "Mark all read" in second
