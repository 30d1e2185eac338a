"""Sign in through the real forms, second factor included, then move about as a user would
(warehouse's functional test does the same). htmx must load and the console stay clean:
a CSP violation is a console error."""

import pyotp
import pytest

from hub.vocabulary import Role
from tests.factories import PASSWORD, totp_secret_of


def _has_sign_in_pages() -> bool:
    from hub.web.app import create_app
    from tests.routes import route_paths

    return "/sign-in" in route_paths(create_app())


pytestmark = [
    pytest.mark.browser,
    # The sign-in pages come from the accounts branch; until it is merged this cannot pass.
    # Once /sign-in exists the mark is inert and the test runs for real.
    pytest.mark.xfail(
        not _has_sign_in_pages(), reason="the /sign-in pages are not merged yet", run=False
    ),
]


def test_sign_in_with_second_factor_then_open_the_account_page(
    page, live_server, factories, browser_log
):
    user = factories.User(role=Role.case_manager)

    page.goto("/")
    page.wait_for_url("**/sign-in")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    assert page.locator('input[name="csrf_token"]').count() == 1
    page.press('input[name="password"]', "Enter")

    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(totp_secret_of(user)).now())
    page.press('input[name="code"]', "Enter")

    page.wait_for_url(f"{live_server.url}/")
    assert page.evaluate("typeof window.htmx") == "object"
    assert user.display_name in page.content()
    session_cookie = next(c for c in page.context.cookies() if c["name"] == "hub_session")
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Strict"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    page.wait_for_url(f"{live_server.url}/account")
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("document.body.getAttribute('hx-headers')")  # htmx sends the CSRF token

    assert browser_log.errors == []
    assert browser_log.blocked == []
