"""Issue 16, done when: the coordinator and a policy-group member sign in through the real
forms, open the dashboard, and find the charts and tables and no client-level data; the
inline SVG charts raise no CSP violation (a console error fails the test)."""

from datetime import date

import pyotp
import pytest
from sqlmodel import select

from hub.clients.models import Person
from hub.demo.program import DEFAULT_SEED, build_demo, demo_accounts
from hub.vocabulary import Role

pytestmark = pytest.mark.browser


def _sign_in(page, account) -> None:
    page.context.clear_cookies()
    page.goto("/sign-in")
    page.fill('input[name="email"]', account.email)
    page.fill('input[name="password"]', account.password)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(account.totp_secret).now())
    page.press('input[name="code"]', "Enter")


@pytest.mark.parametrize("role", [Role.coordinator, Role.policy_group])
def test_the_dashboard_in_a_browser(db, page, live_server, browser_log, role):
    build_demo(db, DEFAULT_SEED, 120, today=date(2026, 11, 1))
    db.commit()
    names = {f"{p.first_name} {p.last_name}" for p in db.exec(select(Person)).all()}
    db.commit()
    account = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == role)

    _sign_in(page, account)
    if role == Role.policy_group:
        page.wait_for_url("**/equity")  # lands on the dashboard
    else:
        page.wait_for_url(f"{live_server.url}/")
        page.get_by_role("main").get_by_role("link", name="Referral demographics").click()
        page.wait_for_url("**/equity")

    assert page.locator("figure.chart svg").count() == 4
    assert page.locator("table.equity").count() >= 10
    assert page.locator("figure.chart + table").count() == 4  # each chart's data table
    text = page.content()
    assert not [name for name in names if name in text]
    assert browser_log.errors == []
    assert browser_log.blocked == []
