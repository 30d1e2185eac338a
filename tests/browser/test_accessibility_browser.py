"""axe-core in a real browser on the pages each role opens in a working day, at desktop and
phone width: no violation of any impact (WCAG 2.x A and AA rules and axe's best practices).

The demo program is built on the test's database, each role signs in through the real forms
with its demo account, and every page is checked twice: at 1280 x 800 and at 390 x 844. axe
runs through the DevTools protocol (`page.evaluate`), so the hub's CSP stays as strict as it
is: no inline script is added to the page."""

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import pyotp
import pytest
from sqlmodel import col, select

from hub.accounts.models import User
from hub.charging.models import ChargingMatter
from hub.clients.models import ClientAssignment
from hub.demo.program import DEFAULT_SEED, demo_accounts
from hub.referrals.models import Referral
from hub.settings import PROJECT_ROOT
from hub.vocabulary import EligibilityResult, MeetingStatus, Role
from hub.workgroup.models import WorkGroupMeeting
from tests.fixtures.browser import WIDTHS, phone_problems
from tests.fixtures.demo_copies import demo_database_url

pytestmark = pytest.mark.browser

AXE_FILE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PERSONS = 60
MINIMUM_PAGES = 25


@dataclass(frozen=True)
class Ids:
    client: int  # on the first case manager's caseload
    matter: int
    meeting: int
    referral: int  # the first officer's newest
    override: int  # an override in the first sergeant's agency
    draft: int  # the next meeting: its proposals, in groups, each with its dismiss form
    held: int  # a meeting held, minutes not approved: attendance and the recorder's form


def _pages(role: Role, ids: Ids) -> list[str]:
    """What each role opens on an ordinary day; every page is reached from the navigation or
    from a list, but naming them keeps the check from shrinking when a link moves."""
    client = f"/clients/{ids.client}"
    meeting = f"/work-group/meetings/{ids.meeting}"
    return {
        Role.officer: [
            "/",
            "/referrals",
            "/referrals/new/arrest",
            "/arrests/new",
            "/notifications",
            "/account",
            f"/referrals/{ids.referral}",
        ],
        Role.sergeant: [
            "/",
            "/referrals/overrides",
            f"/referrals/overrides/{ids.override}",
            "/referrals/new/social-contact",
        ],
        Role.case_manager: [
            "/",
            "/intake",
            "/intake?tab=older",
            "/clients/search",
            "/caseload",  # the caseload at a glance: charts and their tables (item 9)
            client,
            f"{client}/notes",
            f"{client}/consents",
            f"{client}/consents/new",
        ],
        Role.case_manager_supervisor: [
            "/",
            "/admin/approvals",
            "/caseload-requests",
            "/arrests/to-reconcile",
            "/research/hmis",
        ],
        Role.prosecutor: [
            "/",
            "/charging",
            f"/charging/matters/{ids.matter}",
            f"/charging/matters/{ids.matter}/decide",
            f"/charging/matters/{ids.matter}/hearings",
            "/calendar",
            meeting,
        ],
        Role.defender: ["/", "/defense", "/defense/clients", "/calendar", "/flags"],
        Role.defender_supervisor: ["/", "/defense/appointments"],
        Role.coordinator: [
            "/",
            "/work-group",
            meeting,
            f"{meeting}/print",
            f"/work-group/meetings/{ids.draft}",
            f"/work-group/meetings/{ids.held}",
            "/research/protocols",
            "/equity",
            "/equity/jail-bookings",
        ],
        Role.policy_group: ["/equity", "/equity/report"],
        Role.privacy_officer: [
            "/",
            "/privacy",
            "/privacy/flags",
            "/privacy/break-glass",
            "/privacy/court-orders",
            f"/privacy/clients/{ids.client}/accounting",
        ],
        Role.admin: ["/", "/admin/agencies", "/admin/users", "/admin/policy"],
    }[role]


@pytest.fixture
def database_url(backend, request, tmp_path_factory):
    """A copy of one demo build per process (tests/fixtures/demo_copies.py)."""
    yield from demo_database_url(backend, request, tmp_path_factory, PERSONS, date.today())


@pytest.fixture
def demo_ids(db) -> Ids:
    case_manager = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == Role.case_manager)
    user_id = db.exec(select(User.id).where(User.email == case_manager.email)).one()
    client = db.exec(
        select(ClientAssignment.person_id)
        .where(ClientAssignment.user_id == user_id, col(ClientAssignment.ended_at).is_(None))
        .order_by(col(ClientAssignment.person_id))
    ).first()
    prosecutor = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == Role.prosecutor)
    office = db.exec(select(User.agency_id).where(User.email == prosecutor.email)).one()
    matter = db.exec(
        select(ChargingMatter.id)
        .where(ChargingMatter.prosecuting_agency_id == office)
        .order_by(col(ChargingMatter.id))
    ).first()
    meeting = db.exec(select(WorkGroupMeeting.id).order_by(col(WorkGroupMeeting.id))).first()
    draft, held = (
        db.exec(select(WorkGroupMeeting.id).where(WorkGroupMeeting.status == status)).first()
        for status in (MeetingStatus.draft, MeetingStatus.held)
    )
    officer = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == Role.officer)
    officer_id = db.exec(select(User.id).where(User.email == officer.email)).one()
    referral = db.exec(
        select(Referral.id)
        .where(Referral.referring_user_id == officer_id)
        .order_by(col(Referral.referred_at).desc())
    ).first()
    sergeant = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == Role.sergeant)
    police = db.exec(select(User.agency_id).where(User.email == sergeant.email)).one()
    override = db.exec(
        select(Referral.id).where(
            Referral.referring_agency_id == police,
            Referral.eligibility == EligibilityResult.presumptively_excluded.value,
        )
    ).first()
    db.commit()
    assert client and matter and meeting, "the demo has a caseload, a matter and a meeting"
    assert referral and override, "the demo has an officer's referral and an override"
    assert draft and held, "the demo has a draft agenda and a meeting held"
    return Ids(client, matter, meeting, referral, override, draft, held)


def _sign_in(page: Any, role: Role) -> None:
    account = next(a for a in demo_accounts(DEFAULT_SEED) if a.role == role)
    page.context.clear_cookies()
    page.goto("/sign-in")
    page.fill('input[name="email"]', account.email)
    page.fill('input[name="password"]', account.password)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url("**/sign-in/second-factor")
    page.fill('input[name="code"]', pyotp.TOTP(account.totp_secret).now())
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def _violations(page: Any, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [f"{v['impact']} {v['id']} at {', '.join(v['targets'])}" for v in result]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_FILE.exists():
        from tests.conftest import missing

        missing(f"{AXE_FILE.relative_to(PROJECT_ROOT)} is missing (run `npm ci`)")
    return AXE_FILE.read_text()


# The roles in shards, each a test of its own, so that xdist workers share the pages.
SHARDS = 4


def test_the_pages_checked_cover_enough_of_the_hub():
    ids = Ids(*range(1, len(fields(Ids)) + 1))
    paths = {path for role in Role for path in _pages(role, ids)}
    assert len(paths) >= MINIMUM_PAGES, sorted(paths)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_accessibility_violation_on_any_roles_pages(
    page, demo_ids, axe_source, browser_log, shard
):
    found: dict[str, list[str]] = {}
    for role in list(Role)[shard::SHARDS]:
        _sign_in(page, role)
        for path in _pages(role, demo_ids):
            for width, size in WIDTHS.items():
                page.set_viewport_size(size)
                response = page.goto(path)
                status = response.status if response else None
                violations = [f"answered {status}"] if status != 200 else []
                violations += _violations(page, axe_source)
                if width == "phone":
                    violations += phone_problems(page)
                if violations:
                    found[f"{role.value} {path} ({width})"] = violations
    assert not found, "\n".join(f"{where}: {v}" for where, vs in found.items() for v in vs)
    assert not browser_log.errors, browser_log.errors
