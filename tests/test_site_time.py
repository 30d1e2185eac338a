"""Issue 17, item 2: one site time zone, labelled, everywhere. Queues, records and the log show
a moment on the site's clock with its zone; the zone is the site rules'. The clock is set in
every test."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

from hub.referrals.rules import default_rules, store_rules
from hub.vocabulary import Role
from tests.privacy_support import record_read
from tests.referral_pages import local_input

# 02:30 UTC on 20 November is 18:30 on the 19th in Los Angeles (the shipped rules' zone): a
# page showing UTC would show the wrong day as well as the wrong hour.
NOW = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
SHOWN = "2026-11-19 18:30 PST"
UTC_TEXT = "2026-11-20 02:30"


@contextmanager
def clock(moment: datetime):
    """The referral pages' now."""
    with mock.patch("hub.referrals.routes.utcnow", return_value=moment):
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
