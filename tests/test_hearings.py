"""Issue 15, item 2: court dates on a charging matter, set by the matter's office or the
client's defender, changed and cancelled with history; the calendars; reminders once per
date, by notification and by a mail that names no one."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlmodel import col, func, select
from typer.testing import CliRunner

from hub.charging.models import ChargingMatter
from hub.cli import app as cli_app
from hub.clients.models import ClientAssignment
from hub.hearings.models import CourtHearing, CourtHearingChange
from hub.hearings.services import (
    HearingDetails,
    HearingNotFound,
    HearingRefused,
    calendar,
    cancel_hearing,
    change_hearing,
    send_reminders,
    set_hearing,
)
from hub.mail.models import OutboxMail
from hub.mail.services import set_delivery
from hub.notifications.models import Notification
from hub.vocabulary import (
    AssignmentKind,
    HearingChange,
    HearingKind,
    MailDelivery,
    NotificationKind,
    Role,
    SecurityEventTag,
)
from tests.signing_in import logged

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> object:
    with (
        mock.patch("hub.hearings.services.utcnow", return_value=NOW),
        mock.patch("hub.hearings.routes.utcnow", return_value=NOW),
    ):
        yield


@pytest.fixture
def matter(world) -> ChargingMatter:
    referral, matter = world.arrest(now=NOW - timedelta(days=2))
    world.db.add(
        ClientAssignment(
            person_id=referral.person_id,
            user_id=world.users["defender"].id,
            kind=AssignmentKind.defense,
        )
    )
    world.add_user("other_defender", Role.defender, "defense")
    world.db.commit()
    return matter


def when(days: float = 5, hours: int = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours)


def set_one(world, matter, who="county_prosecutor", at=None, kind=HearingKind.arraignment):
    return set_hearing(
        world.db,
        world.viewer(who),
        matter.id,
        HearingDetails(kind, at or when(), "E-942"),
        world.actor(who),
    )


def test_the_office_and_the_clients_defender_set_court_dates(world, matter):
    first = set_one(world, matter)
    second = set_one(world, matter, "defender", when(30), HearingKind.pretrial)
    assert {first.matter_id, second.matter_id} == {matter.id}
    assert len(logged(world.db, SecurityEventTag.hearing_set)) == 2
    for outsider in ("city_prosecutor", "other_defender", "officer"):
        with pytest.raises(HearingNotFound):
            set_one(world, matter, outsider)


@pytest.mark.parametrize(
    "at,message",
    [
        (NOW - timedelta(minutes=1), "in the past"),
        (NOW + timedelta(days=2 * 365 + 1), "more than two years ahead"),
    ],
)
def test_dates_in_the_past_or_too_far_ahead_are_refused(world, matter, at, message):
    with pytest.raises(HearingRefused, match=message):
        set_one(world, matter, at=at)
    world.db.rollback()
    assert world.db.exec(select(func.count()).select_from(CourtHearing)).one() == 0


def test_a_change_and_a_cancellation_keep_the_history(world, matter):
    hearing = set_one(world, matter)
    change_hearing(
        world.db,
        world.viewer("defender"),
        hearing.id,
        HearingDetails(HearingKind.arraignment, when(7), "E-1201"),
        world.actor("defender"),
    )
    cancel_hearing(
        world.db, world.viewer("county_prosecutor"), hearing.id, world.actor("county_prosecutor")
    )
    steps = world.db.exec(
        select(CourtHearingChange)
        .where(CourtHearingChange.hearing_id == hearing.id)
        .order_by(col(CourtHearingChange.id))
    ).all()
    assert [(s.change, s.courtroom, s.starts_at) for s in steps] == [
        (HearingChange.set, "E-942", when()),
        (HearingChange.moved, "E-1201", when(7)),
        (HearingChange.cancelled, "E-1201", when(7)),
    ]
    with pytest.raises(HearingRefused, match="cancelled"):
        change_hearing(
            world.db,
            world.viewer("defender"),
            hearing.id,
            HearingDetails(HearingKind.trial, when(9), "E-1"),
            world.actor("defender"),
        )


def test_the_calendars_of_the_office_and_of_the_defender(world, matter):
    set_one(world, matter, at=when(3))
    other, _ = world.arrest(("prostitution",), now=NOW - timedelta(days=1))
    city_matter = world.db.exec(
        select(ChargingMatter).where(ChargingMatter.person_id == other.person_id)
    ).one()
    set_one(world, city_matter, "city_prosecutor", when(1))
    tz = world.rules.tz
    assert [
        i.matter_id for i in calendar(world.db, world.viewer("county_prosecutor"), NOW, tz)
    ] == [matter.id]
    assert [i.matter_id for i in calendar(world.db, world.viewer("city_prosecutor"), NOW, tz)] == [
        city_matter.id
    ]
    assert [i.matter_id for i in calendar(world.db, world.viewer("defender"), NOW, tz)] == [
        matter.id
    ]
    assert calendar(world.db, world.viewer("other_defender"), NOW, tz) == []


def test_reminders_go_once_and_the_mail_names_no_one(world, matter):
    defender = world.users["defender"]
    set_delivery(world.db, defender.id, MailDelivery.immediate)
    world.db.commit()
    hearing = set_one(world, matter, at=when(1, 6))
    set_one(world, matter, at=when(9))  # beyond the two days: not yet
    assert send_reminders(world.db, NOW, 2) == 3  # two prosecutors of the office, the defender
    assert send_reminders(world.db, NOW, 2) == 0
    notes = world.db.exec(
        select(Notification).where(Notification.kind == NotificationKind.court_date_near)
    ).all()
    assert {n.user_id for n in notes} == {
        world.users["county_prosecutor"].id,
        world.users["county_prosecutor2"].id,
        defender.id,
    }
    [mail] = world.db.exec(select(OutboxMail).where(OutboxMail.user_id == defender.id)).all()
    text = mail.subject + mail.body
    assert "/notifications" in text
    assert matter.offense_tracking_number not in text and "E-942" not in text
    # Moved: told again, once.
    change_hearing(
        world.db,
        world.viewer("county_prosecutor"),
        hearing.id,
        HearingDetails(HearingKind.arraignment, when(1, 8), "E-942"),
        world.actor("county_prosecutor"),
    )
    assert send_reminders(world.db, NOW, 2) == 3
    assert send_reminders(world.db, NOW, 2) == 0


def test_hub_calendar_remind_from_the_command_line(world, matter, database_url, monkeypatch):
    set_one(world, matter, at=when(1))
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["calendar", "remind", "--now", NOW.isoformat()])
    again = runner.invoke(cli_app, ["calendar", "remind", "--now", NOW.isoformat()])
    assert (first.exit_code, again.exit_code) == (0, 0), first.output
    assert "3 new reminder(s)." in first.output
    assert "0 new reminder(s)." in again.output


def test_the_appointed_defender_sees_the_matter_and_its_court_date(world, matter, sign_in):
    set_one(world, matter, at=datetime(2026, 12, 8, 17, 30, tzinfo=UTC))
    defender = sign_in(user=world.users["defender"])
    page = defender.client.get(f"/charging/matters/{matter.id}/hearings")
    assert page.status_code == 200
    assert matter.offense_tracking_number in page.text
    assert "2026-12-08 09:30 PST" in page.text and "E-942" in page.text
    cal = defender.client.get("/calendar")
    assert "2026-12-08 09:30 PST" in cal.text and matter.offense_tracking_number in cal.text

    other = sign_in(user=world.users["other_defender"])
    assert other.client.get(f"/charging/matters/{matter.id}/hearings").status_code == 404
    assert matter.offense_tracking_number not in other.client.get("/calendar").text
    assert logged(world.db, SecurityEventTag.access_denied)


def test_the_pages_set_move_and_cancel_with_every_error_at_once(world, matter, sign_in):
    prosecutor = sign_in(user=world.users["county_prosecutor"])
    url = f"/charging/matters/{matter.id}/hearings"
    refused = prosecutor.post(url, data={"kind": "hearing", "starts_at": "soon", "courtroom": ""})
    assert refused.status_code == 422
    for field in ("kind", "starts at", "courtroom"):
        assert field in refused.text
    past = prosecutor.post(
        url, data={"kind": "trial", "starts_at": "2026-12-01T09:00", "courtroom": "E-1"}
    )
    assert past.status_code == 422 and "in the past" in past.text
    made = prosecutor.post(
        url,
        data={"kind": "trial", "starts_at": "2027-01-12T09:00", "courtroom": "E-1"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    hearing = world.db.exec(select(CourtHearing)).one()
    world.db.commit()  # SQLite: release the read transaction before the app writes
    moved = prosecutor.post(
        f"/hearings/{hearing.id}",
        data={"kind": "trial", "starts_at": "2027-01-19T09:00", "courtroom": "E-2"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert (
        prosecutor.post(f"/hearings/{hearing.id}/cancel", follow_redirects=False).status_code == 303
    )
    page = prosecutor.client.get(url).text
    assert "cancelled" in page and "E-1" in page and "2027-01-19 09:00 PST" in page
    outsider = sign_in(user=world.users["city_prosecutor"])
    assert outsider.post(f"/hearings/{hearing.id}/cancel").status_code == 404
