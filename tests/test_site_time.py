"""Issue 17, item 2: one site time zone, labelled, everywhere. Queues, records and the log show
a moment on the site's clock with its zone; the zone is the site rules'; the accounting's stated
period holds every entry it lists, across midnight UTC. The clock is set in every test."""

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from hub.accounts.sessions import viewer_for
from hub.audit.log import Actor
from hub.mail.models import OutboxMail
from hub.mail.services import mail_security_alert, next_digest_at
from hub.privacy.accounting import generate_accounting
from hub.referrals.rules import default_rules, store_rules
from hub.vocabulary import Role, SecurityAlert
from tests.privacy_support import local, record_read
from tests.referral_pages import local_input

# 02:30 UTC on 20 November is 18:30 on the 19th in Los Angeles (the shipped rules' zone): a
# page showing UTC would show the wrong day as well as the wrong hour.
NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
SHOWN = "2026-11-19 18:30 PST"
UTC_TEXT = "2026-11-20 02:30"


@contextmanager
def clock(moment: datetime):
    """The referral pages' now."""
    with (
        mock.patch("hub.referrals.routes.utcnow", return_value=moment),
        mock.patch("hub.referrals.feedback_routes.utcnow", return_value=moment),
        mock.patch("hub.referrals.intake_routes.utcnow", return_value=moment),
    ):
        yield


def test_the_site_is_in_los_angeles():
    assert default_rules().timezone == "America/Los_Angeles"


def test_the_intake_queue_and_the_referral_show_site_time_with_its_zone(world, sign_in):
    referral, _ = world.arrest(now=NOW - timedelta(hours=2))
    case_manager = sign_in(user=world.users["case_manager"])
    with clock(NOW):  # typed in the site's local time, as the form asks
        at = local_input(NOW)
        done = case_manager.post(f"/referrals/{referral.id}/screening", data={"at": at})
        assert done.status_code in (200, 303), done.text[-800:]
        queue = case_manager.client.get("/intake")
        page = case_manager.client.get(f"/referrals/{referral.id}")
    assert queue.status_code == page.status_code == 200
    assert SHOWN in queue.text and SHOWN in page.text
    assert UTC_TEXT not in queue.text + page.text
    # The machine-readable moment stays UTC.
    assert f'datetime="{NOW.isoformat()}"' in queue.text
    officer = sign_in(user=world.users["officer"])
    with clock(NOW):
        mine = officer.client.get(f"/referrals/{referral.id}").text
    assert "2026-11-19 16:30 PST" in mine and "2026-11-20 00:30" not in mine


def test_the_log_shows_site_time_with_its_zone(db, factories, sign_in):
    case_manager = factories.User(role=Role.case_manager)
    person = factories.Person()
    entry = record_read(db, case_manager, person.id, {"identity": "role"}, at=NOW)
    officer = sign_in(Role.privacy_officer)
    shown = officer.client.get(f"/privacy/log/{entry.seq}").text
    assert "2026-11-19 18:30:00.000000 PST" in shown
    assert NOW.isoformat() in shown  # and the exact UTC moment, to match a receipt
    client_rows = officer.client.get(f"/privacy/clients/{person.id}").text
    assert "2026-11-19 18:30:00 PST" in client_rows and "2026-11-20 02:30:00" not in client_rows


def test_the_zone_is_the_one_the_site_rules_name(db, world, sign_in):
    store_rules(db, world.rules.model_copy(update={"timezone": "Europe/Berlin"}))
    db.commit()
    referral, _ = world.arrest(now=NOW)
    officer = sign_in(user=world.users["officer"])
    with clock(NOW + timedelta(hours=1)):
        page = officer.client.get(f"/referrals/{referral.id}").text
    assert "2026-11-20 03:30 CET" in page and SHOWN not in page


@pytest.fixture
def privacy_officer(db, factories):
    return viewer_for(db, factories.User(role=Role.privacy_officer))


def test_the_accounting_period_holds_its_entries_across_midnight_utc(
    db, factories, privacy_officer, sign_in
):
    """The period is site-local days: an evening read (the next day in UTC) is in its local
    day's period, and is shown on that day; a read just before the local midnight that opens
    the period is not listed."""
    case_manager = factories.User(role=Role.case_manager)
    person = factories.Person()
    before = record_read(
        db, case_manager, person.id, {"identity": "role"}, at=local(2026, 11, 18, 23, 50)
    )
    evening = record_read(
        db, case_manager, person.id, {"identity": "role"}, at=local(2026, 11, 19, 18, 30)
    )
    assert evening.recorded_at.astimezone(UTC).date() == date(2026, 11, 20)  # midnight UTC passed
    with (
        mock.patch("hub.privacy.accounting.utcnow", return_value=NOW + timedelta(days=1)),
        mock.patch("hub.audit.log.utcnow", return_value=NOW + timedelta(days=1)),
    ):
        report = generate_accounting(
            db,
            privacy_officer,
            person.id,
            Actor(request_id="req-zone", address="10.0.0.9"),
            since=date(2026, 11, 19),
            until=date(2026, 11, 19),
            summarise=False,
        )
    assert report.zone == "America/Los_Angeles"
    for section in report.sections:
        assert section.starts_at == local(2026, 11, 19, 0, 0)
        assert section.ends_at == local(2026, 11, 20, 0, 0)
        for line in section.lines:
            assert section.starts_at <= line.first <= line.last < section.ends_at
    assert [line.seqs for line in report.sections[0].lines] == [(evening.seq,)]
    assert before.seq not in {s for line in report.sections[0].lines for s in line.seqs}

    # The page states the period in the site's zone and lists the read on its local day.
    officer = sign_in(Role.privacy_officer)
    with (
        mock.patch("hub.privacy.accounting.utcnow", return_value=NOW + timedelta(days=1)),
        mock.patch("hub.audit.log.utcnow", return_value=NOW + timedelta(days=1)),
    ):
        table = officer.post(
            f"/privacy/clients/{person.id}/accounting",
            data={"since": "2026-11-19", "until": "2026-11-19"},
        ).text
        letter = officer.post(
            f"/privacy/clients/{person.id}/accounting",
            data={"since": "2026-11-19", "until": "2026-11-19", "form": "letter"},
        ).text
    assert "From 2026-11-19 to 2026-11-19, days in the site's time zone" in table
    assert "America/Los_Angeles: from 2026-11-19 00:00 PST until 2026-11-20 00:00 PST" in table
    assert "2026-11-19 18:30 PST" in table and UTC_TEXT not in table
    assert re.findall(r"<li>On ([0-9-]+)", letter) == ["2026-11-19"]
    assert "(dates in the program's local time, America/Los_Angeles)" in letter


def test_mail_states_the_site_time_and_digests_go_at_the_site_hour(db, factories):
    user = factories.User(role=Role.case_manager)
    mail_security_alert(db, user, SecurityAlert.password_changed, now=NOW)
    db.commit()
    [mail] = db.exec(select(OutboxMail)).all()
    db.commit()
    assert SHOWN in mail.body and UTC_TEXT not in mail.body
    # 07:00 in Los Angeles: 15:00 UTC in winter, 14:00 in summer; never 07:00 UTC.
    la = ZoneInfo("America/Los_Angeles")
    assert next_digest_at(NOW, la) == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 09:00 in Los Angeles: tomorrow's hour
    assert next_digest_at(summer, la) == datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
