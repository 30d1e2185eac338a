"""Issue 5 in a real browser: the officer refers (the screening answers live through htmx),
the case manager does intake, the prosecutor declines, and the decision page lists the
disclosures that prosecutor received. The console stays clean (a CSP violation is an error)."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import select

from hub.audit.models import LogEntry
from hub.charging.models import ChargingMatter
from hub.vocabulary import SecurityEventTag
from tests.factories import PASSWORD, totp_secret_of
from tests.fixtures.markup import first_group
from tests.referral_pages import consent_2_35, local_input, received

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
    # The header's notification badge loads by itself.
    page.wait_for_selector('#notification-badge[aria-label^="Notifications"]')


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def test_referral_intake_and_decision_in_the_browser(page, live_server, world, db, browser_log):
    officer = world.users["officer"]
    case_manager = world.users["case_manager"]
    prosecutor = world.users["county_prosecutor"]

    # The officer's referral; the screening result appears as the offense is ticked.
    _sign_in(page, live_server, officer)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="New arrest referral"
    ).click()
    page.wait_for_url("**/referrals/new/arrest")
    page.fill("#first_name", "Ottilie")
    page.fill("#last_name", "Brannagh")
    page.fill("#date_of_birth", "1988-09-14")
    page.get_by_label("Possession of a controlled substance").check()
    page.wait_for_selector("#screening >> text=Eligible")
    page.get_by_label("Is the person suspected of promoting prostitution").check()
    page.wait_for_selector("#screening >> text=Presumptively excluded")
    page.get_by_label("Is the person suspected of promoting prostitution").uncheck()
    page.wait_for_selector("#screening >> text=Eligible")
    page.fill("#arrested_at", local_input(datetime.now(UTC) - timedelta(hours=2)))
    page.fill("#place", "2nd Ave & Union St")
    page.fill("#precinct", "West")
    page.fill("#offense_tracking_number", "OTN-BROWSER-1")
    page.get_by_role("button", name="Refer").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+\?created=1$"))
    assert "Ottilie Brannagh" in page.content()
    referral_id = int(first_group(r"/referrals/(\d+)", page.url))
    _sign_out(page)

    # The case manager's intake, within the deadline.
    _sign_in(page, live_server, case_manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Intake queue").click()
    page.wait_for_url("**/intake")
    assert "Ottilie Brannagh" in page.content()
    page.get_by_role("link", name=f"Referral {referral_id}").click()
    page.get_by_role("button", name="Record the screening").click()
    page.wait_for_selector("text=The initial screening is recorded.")
    page.fill("#services", "Housing navigation")
    page.get_by_role("button", name="Record the intake").click()
    page.wait_for_selector("text=The intake assessment is recorded.")
    assert page.locator(".deadline-met").count() == 1
    matter = db.exec(select(ChargingMatter).where(ChargingMatter.referral_id == referral_id)).one()
    db.commit()
    consent_2_35(
        db, world.viewer("case_manager"), matter.person_id, world.agencies["county_prosecutor"].id
    )
    _sign_out(page)

    # The prosecutor's decline, bound to what they received.
    _sign_in(page, live_server, prosecutor)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Charging queue").click()
    page.wait_for_url("**/charging")
    assert page.locator(".deadline-met").count() == 1
    page.get_by_role("link", name="OTN-BROWSER-1").click()
    page.wait_for_url(f"**/charging/matters/{matter.id}")
    page.get_by_role("link", name="Record a decision").click()
    # htmx binds the outcome's change handler once its script has run: choosing before the
    # page's load (a slow machine) would fetch no reasons.
    page.wait_for_url(f"**/charging/matters/{matter.id}/decide")  # waits for "load"
    page.get_by_label("Decline to file").check()
    page.get_by_label("Completed screening and intake within the deadline").check()
    page.fill("#note", "Intake completed within the deadline.")
    page.locator('input[name="material"]').last.check()
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(re.compile(r".*/charging/decisions/\d+\?created=1$"))
    shown = [
        int(s)
        for s in page.locator("#bound-disclosures tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.seq)"
        )
    ]
    referral_at = db.exec(
        select(ChargingMatter.created_at).where(ChargingMatter.id == matter.id)
    ).one()
    db.commit()
    # Bound: what the prosecutor received before deciding. The decision page just opened is a
    # disclosure of its own (its offense tracking number and note), after the decision.
    decided = db.exec(
        select(LogEntry.seq).where(LogEntry.tag == SecurityEventTag.decision_recorded.value)
    ).one()
    db.commit()
    everything = received(db, prosecutor.id, matter.person_id, referral_at - timedelta(hours=1))
    expected = [seq for seq in everything if seq < decided]
    assert shown == expected and len(shown) >= 2
    assert page.locator('#bound-disclosures td.material:text-is("material")').count() == 1

    assert browser_log.errors == []
    assert browser_log.blocked == []
