"""Issue 16, done when: the coordinator and a policy-group member sign in through the real
forms, open the dashboard, and find the charts and tables and no client-level data; the
inline SVG charts raise no CSP violation (a console error fails the test)."""

import re

import pyotp
import pytest

from hub.vocabulary import AgencyKind, ReferralKind, Role
from tests.factories import PASSWORD, totp_secret_of

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", [Role.coordinator, Role.policy_group])
def test_the_dashboard_in_a_browser(page, live_server, factories, browser_log, role):
    officer = factories.User(role=Role.officer)
    provider = factories.Agency(kind=AgencyKind.case_management)
    names = []
    for n in range(30):
        person = factories.Person(race_ethnicity=[3 if n % 3 else 5], gender=[n % 2])
        names.append(f"{person.first_name} {person.last_name}")
        names.append(person.date_of_birth.isoformat())
        kind = ReferralKind.arrest if n % 2 else ReferralKind.social_contact
        factories.Referral(
            person_id=person.id,
            referring_user=officer,
            case_management_agency_id=provider.id,
            kind=kind,
        )
    user = factories.User(role=role, agency=factories.Agency(kind=AgencyKind.program_office))

    page.goto("/sign-in")
    page.fill('input[name="email"]', user.email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(totp_secret_of(user)).now())
    page.press('input[name="code"]', "Enter")
    if role == Role.policy_group:
        page.wait_for_url("**/equity")  # lands on the dashboard
    else:
        page.wait_for_url(f"{live_server.url}/")
        page.get_by_role("main").get_by_role("link", name="Referral demographics").click()
        page.wait_for_url("**/equity")

    assert page.locator("figure.chart svg").count() == 4
    assert page.locator("table.equity").count() >= 10
    assert page.locator("figure.chart + table").count() == 4  # each chart's data table
    assert page.locator('table[data-table="race_kind"] td', has_text="30").count() >= 1
    for table in ("month_kind", "race_kind", "composition", "funnel", "jail_booked", "costs"):
        assert page.locator(f'table[data-table="{table}"]').count() == 1, table
    # Per officer only to the coordinator (and a sergeant), never to the policy group.
    officers = page.locator('table[data-table="officer_kind"]').count()
    assert officers == (1 if role == Role.coordinator else 0)
    text = page.content()
    assert not [name for name in names if name in text]
    assert not re.search(r"/clients/\d+", text)  # no link to any client's record

    # The printable report: the same figures, the same absence of anyone.
    page.get_by_role("link", name="Printable report").first.click()
    page.wait_for_url("**/equity/report**")
    assert page.locator("figure.chart svg").count() == 4
    assert not [name for name in names if name in page.content()]
    assert browser_log.errors == []
    assert browser_log.blocked == []
