"""A case manager's morning (issue 14): signs in through the real forms, opens "My clients",
goes to a client, keeps their housing through the htmx form on the record, logs a contact and
changes the program status; nothing the page runs is blocked by the CSP."""

import pyotp
import pytest

from tests.factories import PASSWORD, totp_secret_of

pytestmark = [pytest.mark.browser]


def _sign_in(page, live_server, user):
    page.goto("/")
    page.wait_for_url("**/sign-in")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(totp_secret_of(user)).now())
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(f"{live_server.url}/")


def test_a_case_managers_morning(page, live_server, program, browser_log):
    person = program.person
    _sign_in(page, live_server, program.case_manager)

    page.get_by_role("link", name="My clients").click()
    page.wait_for_url(f"{live_server.url}/caseload")
    page.locator(f'#caseload a[href="/clients/{person.id}"]').click()
    page.wait_for_url(f"{live_server.url}/clients/{person.id}")

    # Housing: the form swaps into the record (htmx), the save answers in place.
    page.locator("#section-housing").get_by_role("link", name="Keep housing").click()
    form = page.locator("#keep-housing form")
    form.wait_for()
    form.locator('select[name="living_situation"]').select_option("101")
    form.locator('input[name="waitlist"]').fill("Harbor House (fictional)")
    with page.expect_response(f"**/clients/{person.id}/record/housing") as answer:
        form.get_by_role("button", name="Save housing").click()
    assert answer.value.status == 200
    page.locator("#keep-housing").get_by_text("Saved.").wait_for()

    # A contact, then the status.
    page.goto(f"/clients/{person.id}/contacts")
    page.select_option('select[name="kind"]', "in_person")
    page.select_option('select[name="place_kind"]', "shelter")
    page.fill('textarea[name="note"]', "Coffee at the day shelter")
    page.select_option('select[name="note_category"]', "engagement")
    page.get_by_role("button", name="Log contact").click()
    page.locator("#contacts").get_by_text("Coffee at the day shelter").wait_for()

    page.goto(f"/clients/{person.id}/record/status")
    page.select_option('select[name="program_status"]', "active")
    page.fill('textarea[name="reason"]', "Came to every meeting this month")
    page.get_by_role("button", name="Save status").click()
    page.locator("#keep-status").get_by_text("Saved.").wait_for()  # htmx answers in place
    page.goto(f"/clients/{person.id}")
    engagement = page.locator("#section-engagement")
    assert "active" in engagement.inner_text()

    page.goto(f"/clients/{person.id}/history")
    assert "Harbor House (fictional)" in page.locator("#changes").inner_text()
    assert browser_log.errors == []
    assert browser_log.blocked == []
