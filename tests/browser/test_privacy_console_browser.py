"""A privacy officer, signed in through the real forms, walks from a review flag to the user's
activity, to a client's disclosures, to that client's accounting of disclosures. htmx loads and
the console stays clean (a CSP violation is a console error); no URL carries a name."""

import pyotp
import pytest

from hub.privacy.flags.computing import compute_flags
from hub.site import write_setting
from hub.vocabulary import Role
from tests.factories import PASSWORD, totp_secret_of
from tests.privacy_support import actor, record_read

pytestmark = pytest.mark.browser


def test_from_a_flag_to_the_users_timeline_to_a_clients_accounting(
    page, live_server, db, factories, browser_log
):
    officer = factories.User(role=Role.privacy_officer)
    cm = factories.User(role=Role.case_manager, display_name="Casey Manager")
    person = factories.Person(first_name="Zebulon", last_name="Quarrington")
    # Two reads on the role alone (no caseload): the outside-relationship rule flags them. The
    # whole week counts as working hours, so the after-hours rule stays out at any hour.
    write_setting(
        db,
        "privacy_flags",
        {
            "working_hours_start": "00:00",
            "working_hours_end": "23:59:59.999999",
            "working_days": list(range(7)),
        },
    )
    db.commit()
    for _ in range(2):
        record_read(db, cm, person.id, {"identity": "role", "engagement": "role"})
    compute_flags(db, actor(None), days=1)

    page.goto("/")
    page.wait_for_url("**/sign-in")
    page.fill('input[name="email"]', officer.email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(totp_secret_of(officer)).now())
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(f"{live_server.url}/")

    visited = [page.url]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy console").click()
    page.wait_for_url("**/privacy")
    assert page.evaluate("typeof window.htmx") == "object"
    # Search by POST through htmx: the results swap in, the URL does not change.
    page.select_option("#f-user", str(cm.id))
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#results h2:has-text('user id')")
    assert page.url.endswith("/privacy")
    visited.append(page.url)

    page.get_by_role("link", name="Review flags").first.click()
    page.wait_for_url("**/privacy/flags")
    visited.append(page.url)
    page.locator("#flags a[href^='/privacy/flags/']").first.click()
    page.wait_for_url("**/privacy/flags/*")
    assert "on the role alone" in page.locator(".flag-reason").inner_text()
    visited.append(page.url)

    page.locator(".facts").get_by_role("link", name="Casey Manager").click()
    page.wait_for_url(f"**/privacy/users/{cm.id}")
    assert page.get_by_role("heading", name="Activity of Casey Manager").is_visible()
    visited.append(page.url)

    page.locator("#timeline").get_by_role("link", name=f"#{person.id}").first.click()
    page.wait_for_url(f"**/privacy/clients/{person.id}")
    rows = page.locator("#timeline tbody tr")
    assert rows.count() == 2
    assert "engagement (role)" in rows.first.inner_text()
    visited.append(page.url)

    page.get_by_role("link", name="Accounting of disclosures").click()
    page.wait_for_url(f"**/privacy/clients/{person.id}/accounting")
    # The letter for the client is the default (tests/test_privacy_console_routes.py); the file
    # copy, with the log's codes, is the table.
    page.get_by_label("A table for the file, with the log's codes").check()
    page.get_by_role("button", name="Generate the accounting").click()
    page.wait_for_selector("h1:has-text('Accounting of disclosures')")
    report = page.locator("main").inner_text()
    assert "HIPAA, 45 CFR 164.528" in report
    assert "Casey Manager" in report and "2" in report
    assert "Integrity of the log at the time of printing: verified" in report
    visited.append(page.url)

    for url in visited:
        assert "Zebulon" not in url and "Quarrington" not in url and "?" not in url
    assert "Zebulon" not in page.content()
    assert browser_log.errors == []
    assert browser_log.blocked == []
