"""Issue 17, item 6 (the sergeant and the officer) and item 4 (the intake queue's tabs), as
their users walk them: a sergeant approves another's override from the linked referral, the
officer fixes or withdraws a referral made in error within a day, and the intake queue opens
on current work. The clock is set in every test."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape
from unittest import mock

import pytest
from sqlmodel import col, select

from hub.audit.models import LogEntry
from hub.charging.queue_order import queue_keys
from hub.notifications.models import Notification
from hub.referrals.eligibility import ScreeningAnswers
from hub.referrals.models import Referral, ReferralCorrection
from hub.referrals.referred_person import NewPerson
from hub.vocabulary import SecurityEventTag
from hub.workgroup import proposing
from tests.audit_support import detail_of
from tests.referral_pages import arrest_form, local_input, referral_id_from
from tests.workgroup_support import meeting_tomorrow

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
NCO = ScreeningAnswers(facts=frozenset({"no-contact-order"}))


@contextmanager
def clock(moment: datetime):
    """The referral pages' and the corrections' now."""
    with (
        mock.patch("hub.referrals.routes.utcnow", return_value=moment),
        mock.patch("hub.referrals.feedback_routes.utcnow", return_value=moment),
        mock.patch("hub.referrals.intake_routes.utcnow", return_value=moment),
        mock.patch("hub.referrals.correction_routes.utcnow", return_value=moment),
    ):
        yield


def _tags(db, since_seq: int = 0) -> list[LogEntry]:
    entries = list(db.exec(select(LogEntry).where(col(LogEntry.seq) > since_seq)))
    db.commit()
    return entries


def _newest_seq(db) -> int:
    entries = _tags(db)
    return max((e.seq for e in entries), default=0)


# --- the sergeant ---------------------------------------------------------------------------


def test_a_sergeant_approves_an_officers_override_from_its_linked_page(world, sign_in, db):
    referral, _ = world.arrest(answers=NCO, override_reason="Known to me; safe", now=NOW)
    sergeant = sign_in(user=world.users["sergeant"])
    listing = sergeant.client.get("/referrals/overrides").text
    # The referral is a link to its override, with an approve action; names, not ids.
    assert f'href="/referrals/overrides/{referral.id}"' in listing
    assert escape(world.users["officer"].display_name) in listing
    page = sergeant.client.get(f"/referrals/overrides/{referral.id}")
    # The exclusion by its label, not its code.
    assert page.status_code == 200 and "No-contact order with a current participant" in page.text
    assert f'action="/referrals/overrides/{referral.id}/approve"' in page.text
    before = _newest_seq(db)
    approved = sergeant.post(f"/referrals/overrides/{referral.id}/approve", data={})
    assert approved.status_code == 200, approved.text[-1500:]
    assert "The override is approved." in approved.text
    assert f"Approved by {escape(world.users['sergeant'].display_name)}" in approved.text
    row = db.get(Referral, referral.id)
    db.refresh(row)
    assert row.override_approved_by_id == world.users["sergeant"].id
    logged = [e for e in _tags(db, before) if e.tag == SecurityEventTag.override_approved.value]
    assert len(logged) == 1 and detail_of(logged[0])["referral_id"] == referral.id
    assert "Known to me" not in str(logged[0].detail)
    # Approved once: again is refused, with a clear message, and nothing changes.
    again = sergeant.post(f"/referrals/overrides/{referral.id}/approve", data={})
    assert again.status_code == 400 and "already approved" in again.text


def test_the_officer_hears_that_their_override_was_approved(world, sign_in, db):
    """Item 6: the approval reaches the referring officer as a notification naming the
    referral by number, never the client."""
    person = NewPerson("Quillon", "Ashgrove", None)
    referral, _ = world.arrest(
        person=person, answers=NCO, override_reason="Known to me; safe", now=NOW
    )
    sergeant = sign_in(user=world.users["sergeant"])
    officer = sign_in(user=world.users["officer"])
    with clock(NOW):
        waiting = officer.client.get(f"/referrals/{referral.id}").text
        assert "awaiting your sergeant's review" in waiting
        assert (
            sergeant.post(f"/referrals/overrides/{referral.id}/approve", data={}).status_code == 200
        )
        # The page the notification opens says so too.
        assert "approved by your sergeant" in officer.client.get(f"/referrals/{referral.id}").text
    notes = list(db.exec(select(Notification).where(Notification.kind == "override_approved")))
    db.commit()
    assert [(n.user_id, n.link) for n in notes] == [
        (world.users["officer"].id, f"/referrals/{referral.id}")
    ]
    listing = officer.client.get("/notifications").text
    assert "Override approved on a referral you made" in listing
    assert f"<strong>Referral {referral.id}</strong>" in listing
    assert "Quillon" not in listing and "Ashgrove" not in listing
    # The sergeant hears nothing of their own step.
    assert "Override approved" not in sergeant.client.get("/notifications").text


def test_a_sergeant_cannot_approve_their_own_override(world, sign_in, db):
    referral, _ = world.arrest(
        answers=NCO, override_reason="I know them", officer="sergeant", now=NOW
    )
    sergeant = sign_in(user=world.users["sergeant"])
    page = sergeant.client.get(f"/referrals/overrides/{referral.id}").text
    assert "Awaiting another sergeant" in page and "/approve" not in page
    refused = sergeant.post(f"/referrals/overrides/{referral.id}/approve", data={})
    assert refused.status_code == 400
    assert "another sergeant of your agency approves" in refused.text
    row = db.get(Referral, referral.id)
    db.refresh(row)
    assert row.override_approved_at is None
    # Another agency's sergeant finds no such override (404, logged as a refusal).
    other = sign_in(user=world.users["other_sergeant"])
    before = _newest_seq(db)
    assert other.post(f"/referrals/overrides/{referral.id}/approve", data={}).status_code == 404
    assert other.client.get(f"/referrals/overrides/{referral.id}").status_code == 404
    assert SecurityEventTag.access_denied.value in {e.tag for e in _tags(db, before)}


# --- the officer ----------------------------------------------------------------------------


def _refer(world, officer) -> int:
    data = arrest_form(
        "Odalys",
        "Brightwater",
        world.next_otn(),
        world.agencies["case_management"].id,
        arrested_at=local_input(NOW - timedelta(hours=2)),
    )
    with mock.patch("hub.referrals.opening.utcnow", return_value=NOW):
        response = officer.post("/referrals/new/arrest", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[-1500:]
    return referral_id_from(response)


def test_after_a_referral_the_officer_sees_no_new_arrest_form(world, sign_in):
    officer = sign_in(user=world.users["officer"])
    referral_id = _refer(world, officer)
    with clock(NOW):
        made = officer.client.get(f"/referrals/{referral_id}?created=1").text
        assert "The referral is made" in made
        assert "new-arrest" not in made and "A new arrest of this client" not in made
        # The first day offers to put an error right instead.
        assert "Made in error?" in made and f"/referrals/{referral_id}/withdraw" in made
    with clock(NOW + timedelta(days=3)):
        later = officer.client.get(f"/referrals/{referral_id}").text
    assert "Made in error?" not in later and "Report a new arrest of this client" in later


def test_an_officer_withdraws_a_referral_made_in_error_within_a_day(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    referral_id = _refer(world, officer)
    before = _newest_seq(db)
    with clock(NOW + timedelta(hours=23)):
        unreasoned = officer.post(f"/referrals/{referral_id}/withdraw", data={"reason": ""})
        assert unreasoned.status_code == 400 and "choose the reason" in unreasoned.text
        done = officer.post(
            f"/referrals/{referral_id}/withdraw",
            data={"reason": "wrong_person", "note": "Mixed up two reports"},
        )
        assert done.status_code == 200, done.text[-1500:]
    assert "The referral is withdrawn" in done.text and "Made in error?" not in done.text
    row = db.get(Referral, referral_id)
    db.refresh(row)
    assert row.withdrawn_by_id == world.users["officer"].id
    logged = [e for e in _tags(db, before) if e.tag == SecurityEventTag.referral_withdrawn.value]
    assert [detail_of(e)["reason"] for e in logged] == ["wrong_person"]
    assert all("Mixed up" not in str(e.detail) for e in _tags(db, before))
    # It leaves the intake queue and the prosecutor's charging queue.
    case_manager = sign_in(user=world.users["case_manager"])
    with clock(NOW + timedelta(hours=23)):
        queue = case_manager.client.get("/intake").text
    assert f"/referrals/{referral_id}" not in queue
    assert queue_keys(db, world.viewer("county_prosecutor"), NOW.date()) == []
    assert queue_keys(db, world.viewer("city_prosecutor"), NOW.date()) == []
    # Nor is it proposed to the work group.
    meeting = meeting_tomorrow(world, [world.users["officer"].id])
    meeting.starts_at = NOW + timedelta(days=1)  # the week of the referral (not saved)
    proposed = proposing.compute_proposals(db, meeting, NOW.date())
    db.rollback()
    assert [p for p in proposed if p.referral_id == referral_id] == []


def test_after_24_hours_a_withdrawal_is_refused_with_a_clear_message(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    referral_id = _refer(world, officer)
    with clock(NOW + timedelta(hours=24, minutes=1)):
        refused = officer.post(
            f"/referrals/{referral_id}/withdraw", data={"reason": "entered_in_error"}
        )
    assert refused.status_code == 400
    assert "only within 24 hours" in refused.text
    row = db.get(Referral, referral_id)
    db.refresh(row)
    assert row.withdrawn_at is None
    assert db.exec(select(ReferralCorrection)).all() == []
    # Another officer's referral answers as none.
    other = sign_in(user=world.users["officer2"])
    with clock(NOW):
        assert (
            other.post(
                f"/referrals/{referral_id}/withdraw", data={"reason": "entered_in_error"}
            ).status_code
            == 404
        )


def test_an_officer_corrects_the_agency_and_the_new_agency_sees_it(world, sign_in, db):
    officer = sign_in(user=world.users["officer"])
    referral_id = _refer(world, officer)
    harbor = world.agencies["other_case_management"].id
    with clock(NOW + timedelta(hours=1)):
        nothing = officer.post(
            f"/referrals/{referral_id}/correct",
            data={"reason": "wrong_agency", "precinct": "West"},
        )
        assert nothing.status_code == 400 and "nothing to correct" in nothing.text
        done = officer.post(
            f"/referrals/{referral_id}/correct",
            data={
                "reason": "wrong_agency",
                "precinct": "East",
                "case_management_agency_id": str(harbor),
            },
        )
    assert done.status_code == 200 and "The referral is corrected" in done.text
    assert "precinct changed; case management agency changed" in done.text
    row = db.get(Referral, referral_id)
    db.refresh(row)
    assert (row.precinct, row.case_management_agency_id) == ("East", harbor)
    logged = [e for e in _tags(db) if e.tag == SecurityEventTag.referral_corrected.value]
    assert [detail_of(e)["reason"] for e in logged] == ["wrong_agency"]
    harbor_cm = sign_in(user=world.users["other_case_manager"])
    with clock(NOW + timedelta(hours=1)):
        assert f"/referrals/{referral_id}" in harbor_cm.client.get("/intake").text


# --- the intake queue's tabs ---------------------------------------------------------------

ROW = re.compile(r'href="/referrals/(\d+)">Referral')


@pytest.fixture
def aged_queue(world):
    """Open referrals whose deadline (30 days) was missed long ago, missed lately, and still
    ahead: (old, recent, ahead) referral ids, each in due-date order."""
    old = [world.arrest(now=NOW - timedelta(days=d))[0].id for d in (400, 90)]
    recent = [world.arrest(now=NOW - timedelta(days=d))[0].id for d in (40, 35)]
    soon = [world.arrest(now=NOW - timedelta(hours=h))[0].id for h in (30, 3)]
    return old, recent, soon


def test_the_intake_queue_opens_on_current_work_and_keeps_old_misses_apart(
    world, sign_in, aged_queue
):
    old, recent, soon = aged_queue
    case_manager = sign_in(user=world.users["case_manager"])
    with clock(NOW):
        current = case_manager.client.get("/intake").text
        older = case_manager.client.get("/intake?tab=older").text
        assert case_manager.client.get("/intake?tab=stale").status_code == 422
    shown = [int(i) for i in ROW.findall(current)]
    # Recent misses first, then the pending ones; nothing missed long ago.
    assert shown == recent + soon
    assert current.count("deadline-missed") == 2
    assert "Current work (4)" in current and "(2)</a>" in current
    assert [int(i) for i in ROW.findall(older)] == old  # the oldest due date first
    assert 'aria-current="page">Missed over 14 days ago' in older
