"""Nothing typed is lost, in a real browser (issue 17): the idle warning offers to stay signed
in two minutes before the sign-out; a note sent after the sign-out is kept and comes back
after signing in again."""

from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from hub.accounts.models import UserSession
from hub.clients.models import CaseNote
from hub.db import utcnow
from hub.settings import get_settings
from hub.vocabulary import AssignmentKind, Role
from tests.fixtures.browser import sign_in

pytestmark = pytest.mark.browser

NOTE = "Saw him at the library; he wants to try the detox bed on Monday after all."


def test_the_idle_warning_and_a_note_kept_across_the_sign_out(page, db, factories, browser_log):
    case_manager = factories.User(role=Role.case_manager)
    person = factories.Person()
    factories.ClientAssignment(
        person_id=person.id, user_id=case_manager.id, kind=AssignmentKind.caseload
    )
    db.commit()
    idle = get_settings().session_idle_minutes * 60

    # The page's clock is the test's: two minutes before the idle limit the warning opens.
    page.clock.install()
    sign_in(page, case_manager)
    page.goto(f"/clients/{person.id}/notes")
    warning = page.locator("#idle-warning")
    assert not warning.is_visible()
    page.clock.fast_forward((idle - 119) * 1000)
    assert warning.is_visible()
    page.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")

    # The person types a note; meanwhile the server's idle limit passes.
    page.select_option("#note-category", "housing")
    page.fill("#note-body", NOTE)
    db.exec(
        update(UserSession)
        .where(col(UserSession.user_id) == case_manager.id)
        .values(last_seen_at=utcnow() - timedelta(seconds=idle + 1))
    )
    db.commit()
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url("**/sign-in?kept=1")
    assert "kept for 24 hours" in page.locator("main").inner_text()

    sign_in(page, case_manager, steps_ahead=1)  # a TOTP code is never used twice
    page.get_by_role("link", name="open it").click()
    assert page.locator("textarea[name=body]").input_value() == NOTE
    page.get_by_role("button", name="Send it again").click()
    page.wait_for_url(f"**/clients/{person.id}/notes")
    assert NOTE in page.locator("#notes").inner_text()
    assert [n.body for n in db.exec(select(CaseNote))] == [NOTE]
    db.commit()
    # The one error: htmx's post answered 401 (signed out) with HX-Redirect to sign-in.
    assert browser_log.errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
