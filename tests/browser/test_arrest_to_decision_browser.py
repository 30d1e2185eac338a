"""Issue 15's "Done when" in a real browser: an officer of another agency reports a
participant's arrest with a victim; the matter is in the prosecutor's queue as a new arrest;
the prosecutor sets the arraignment; the defender office's supervisor appoints a defender to
the client, who sees the matter and the court date; the prosecutor files with harm-to-victim;
the period report counts it. The console stays clean (a CSP violation is an error)."""

import re
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from sqlmodel import select

from hub.arrests.models import ArrestReport
from hub.charging.models import ChargingDecision
from hub.clients.models import ClientAssignment
from hub.vocabulary import AssignmentKind, DecisionOutcome, ProgramStatus, Role
from tests.factories import PASSWORD, totp_secret_of
from tests.referral_pages import local_input

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, user):
    page.goto("/sign-in")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(totp_secret_of(user)).now())
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_selector('#notification-badge[aria-label^="Notifications"]')


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def _nav(page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_a_new_arrest_from_another_agency_to_a_filing(page, live_server, world, db, browser_log):
    person = world.factories.Person(
        first_name="Wendeline",
        last_name="Okonkwo-Brandt",
        date_of_birth=date(1984, 2, 29),
        program_status=ProgramStatus.active,
    )
    supervisor = world.add_user("defense_supervisor", Role.defender_supervisor, "defense")
    deputy = world.add_user("deputy", Role.officer, "other_police")
    now = datetime.now(UTC)

    _sign_in(page, live_server, deputy)
    _nav(page, "Report an arrest")
    page.fill("#first_name", "Wendeline")
    page.fill("#last_name", "Okonkwo-Brandt")
    page.fill("#date_of_birth", "1984-02-29")
    page.fill("#offense_code", "assault-4")
    page.fill("#offense_description", "Assault in the fourth degree")
    page.select_option("#offense_level", "misdemeanor")
    page.get_by_label("There is a victim").check()
    page.fill("#arrested_at", local_input(now - timedelta(hours=2)))
    page.fill("#place", "Occidental Park")
    page.fill("#offense_tracking_number", "OTN-BROWSER-15")
    page.get_by_role("button", name="Report the arrest").click()
    page.wait_for_selector("text=The case management agency reconciles it")
    assert "Okonkwo" not in page.locator("main").inner_text()
    _sign_out(page)
    matter_id = db.exec(select(ArrestReport.matter_id)).one()
    db.commit()
    assert matter_id is not None

    prosecutor = world.users["city_prosecutor"]
    _sign_in(page, live_server, prosecutor)
    _nav(page, "Charging queue")
    page.wait_for_url("**/charging")
    row = page.locator("table.queue tbody tr", has_text="OTN-BROWSER-15")
    assert "new arrest" in row.inner_text()
    row.get_by_role("link", name="OTN-BROWSER-15").click()
    page.wait_for_url(f"**/charging/matters/{matter_id}")
    assert "with a victim" in page.content()
    page.get_by_role("link", name="court dates and hearings").click()
    page.select_option("#kind", "arraignment")
    arraignment = (
        (now + timedelta(days=5))
        .astimezone(world.rules.tz)
        .replace(hour=9, minute=30, second=0, microsecond=0)
    )
    page.fill("#starts_at", local_input(arraignment))
    page.fill("#courtroom", "CC-3")
    page.get_by_role("button", name="Set the court date").click()
    page.wait_for_selector("table.hearings >> text=CC-3")
    _sign_out(page)

    # The defender office appoints one of its defenders by the matter's number, as the
    # court's appointment names the case.
    _sign_in(page, live_server, supervisor)
    _nav(page, "Defender appointments")
    page.fill("#offense_tracking_number", "OTN-BROWSER-15")
    page.fill("#defender_email", world.users["defender"].email)
    page.get_by_role("button", name="Appoint").click()
    page.locator("table", has_text=world.users["defender"].display_name).wait_for()
    _sign_out(page)
    appointed = db.exec(
        select(ClientAssignment).where(ClientAssignment.kind == AssignmentKind.defense)
    ).one()
    db.commit()
    assert (appointed.person_id, appointed.user_id) == (person.id, world.users["defender"].id)

    shown = arraignment.strftime("%Y-%m-%d %H:%M")
    _sign_in(page, live_server, world.users["defender"])
    _nav(page, "My clients")
    page.wait_for_url("**/defense/clients")
    assert "OTN-BROWSER-15" in page.content() and shown in page.content()
    _nav(page, "Court calendar")
    page.wait_for_url("**/calendar")
    assert "OTN-BROWSER-15" in page.content() and "CC-3" in page.content()
    _sign_out(page)

    # A colleague files: a TOTP code is good once, and the first prosecutor's may not have
    # changed yet.
    _sign_in(page, live_server, world.add_user("colleague", Role.prosecutor, "city_attorney"))
    page.goto(f"/charging/matters/{matter_id}/decide")
    page.get_by_label("File charges").check()
    page.get_by_label("Harm to an identified victim").check()
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r".*/charging/decisions/\d+\?created=1$"))
    decision = db.exec(select(ChargingDecision)).one()
    db.commit()
    assert (decision.outcome, decision.reason_codes) == (DecisionOutcome.file, ["harm-to-victim"])

    # The month's report of the office counts it, by outcome and by reason.
    month = decision.decided_at.astimezone(world.rules.tz).strftime("%Y-%m")
    _nav(page, "The period's decisions")
    page.wait_for_url("**/charging/period")
    page.fill("#month", month)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/charging/period?month={month}")
    assert page.locator('[data-measure="decisions"]').inner_text() == "1"
    assert page.locator('tr[data-outcome="file"] td').last.inner_text() == "1"
    assert page.locator('tr[data-reason="file:harm-to-victim"] td').last.inner_text() == "1"

    assert browser_log.errors == []
    assert browser_log.blocked == []
