"""Issue 16: the equity dashboard, seen by the Policy Coordinating Group, the coordinator and a
sergeant. Counts only, charts with their data tables, each view an aggregate disclosure in the
log, and no client-level field on any page a policy-group member can reach."""

import html
import re
from collections import deque
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from sqlmodel import select

from hub.accounts.models import User
from hub.audit.models import LogEntry
from hub.clients.models import Person, PersonAlias
from hub.demo.program import DEFAULT_SEED, demo_accounts
from hub.disclosure.aggregates import AGGREGATE_CATEGORIES
from hub.vocabulary import DisclosureTag, Purpose, Role
from tests.audit_support import detail_of
from tests.fixtures.demo_copies import demo_database_url

TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
PERSONS = 150
_LINK = re.compile(r'(?:href|hx-get)="([^"]+)"')


@pytest.fixture
def database_url(backend, request, tmp_path_factory):
    """Every test here reads a copy of one demo build (tests/fixtures/demo_copies.py)."""
    yield from demo_database_url(backend, request, tmp_path_factory, PERSONS, TODAY)


@pytest.fixture(autouse=True)
def frozen():
    with mock.patch("hub.equity.routes.utcnow", return_value=NOW):
        yield


def _account(db, role: Role, n: int = 0) -> User:
    email = [a.email for a in demo_accounts(DEFAULT_SEED) if a.role == role][n]
    user = db.exec(select(User).where(User.email == email)).one()
    db.commit()
    return user


def _client_level_values(db) -> set[str]:
    """Every name, alias and date of birth of the demo's clients."""
    values: set[str] = set()
    for person in db.exec(select(Person)).all():
        values.add(f"{person.first_name} {person.last_name}")
        if person.date_of_birth:
            values |= {person.date_of_birth.isoformat(), person.date_of_birth.strftime("%m/%d/%Y")}
    for alias in db.exec(select(PersonAlias)).all():
        values.add(alias.alias if hasattr(alias, "alias") else "")
    db.commit()
    return {v for v in values if len(v) >= 6}


def _aggregate_entries(db) -> list[LogEntry]:
    entries = list(
        db.exec(select(LogEntry).where(LogEntry.tag == DisclosureTag.aggregate_read.value)).all()
    )
    db.commit()
    return entries


def _crawl(client, start: str) -> dict[str, tuple[int, str]]:
    seen: dict[str, tuple[int, str]] = {}
    queue = deque([start])
    while queue:
        url = queue.popleft()
        if url in seen or url.startswith(("/static/", "/sign-out")):
            continue
        assert len(seen) < 200
        response = client.get(url)
        seen[url] = (response.status_code, response.text)
        if response.status_code == 200:
            for link in _LINK.findall(response.text):
                link = html.unescape(link).split("#")[0]
                if link.startswith("/") and not link.startswith("//"):
                    queue.append(link)
    return seen


def test_policy_group_lands_on_the_dashboard_and_sees_no_client_level_data(db, sign_in):
    member = sign_in(user=_account(db, Role.policy_group))
    home = member.client.get("/")
    assert home.status_code == 200 and str(home.url).endswith("/equity")
    assert "<svg" in home.text and 'data-table="race_kind"' in home.text
    assert 'data-table="officer_kind"' not in home.text  # per officer: sergeant, coordinator

    secrets = _client_level_values(db)
    assert secrets, "the demo has names and dates of birth to look for"
    pages = _crawl(member.client, "/")
    assert {"/equity", "/equity/report?months=12"} <= set(pages)
    for url, (status, text) in pages.items():
        assert status in (200, 403, 404), f"{url} answered {status}"
        assert not re.search(r"/clients/\d+", text), f"{url} links a client"
        for value in secrets:
            assert value not in text and html.escape(value) not in text, f"{url} names a client"
    # Nor any client page or API route.
    assert member.client.get("/clients/1").status_code == 403
    assert member.client.get("/clients/search").status_code == 403
    assert member.client.get("/work-group").status_code == 403
    api = member.client.post("/api/v1/clients/search", json={"name": "x"})
    assert api.status_code in (401, 403)


def test_each_view_is_an_aggregate_disclosure_for_oversight(db, sign_in):
    member = sign_in(user=_account(db, Role.policy_group))
    before = len(_aggregate_entries(db))
    assert member.client.get("/equity?months=6").status_code == 200
    assert member.client.get("/equity/report").status_code == 200
    entries = _aggregate_entries(db)[before:]
    assert len(entries) == 2
    for entry in entries:
        assert entry.kind == "disclosure" and entry.outcome == "disclosed"
        assert entry.purpose == Purpose.oversight.value
        assert entry.person_id is None
        assert entry.actor_user_id == member.user.id
        assert set(entry.categories) <= {c.value for c in AGGREGATE_CATEGORIES[Purpose.oversight]}
        assert detail_of(entry)["view"] == "equity_dashboard"


def test_charts_are_safe_svg_each_followed_by_its_data_table(db, sign_in):
    page = sign_in(user=_account(db, Role.coordinator)).client.get("/equity").text
    figures = re.findall(
        r'<figure class="chart" data-chart="(\w+)">(.*?)</figure>\s*(<table[^>]*>)?', page, re.S
    )
    assert {name for name, _, _ in figures} == {"month_kind", "composition", "funnel", "outcomes"}
    for name, body, table in figures:
        assert "<svg" in body and 'aria-hidden="true"' in body, name
        assert "<script" not in body and " style=" not in body and "<style" not in body, name
        assert not re.search(r'href="(?!#)', body), name
        assert table, f"{name} has no data table after it"
    assert 'data-table="officer_kind"' in page  # the coordinator sees every officer


def test_a_sergeant_sees_only_their_own_agencys_officers(db, sign_in):
    sergeant = _account(db, Role.sergeant)
    page = sign_in(user=sergeant).client.get("/equity").text
    table = page.split('data-table="officer_kind"')[1].split("</table>")[0]
    agencies = set(re.findall(r'<th scope="row">([^<:]+): ', table))
    assert len(agencies) == 1, agencies


def test_every_count_under_eleven_is_suppressed_on_the_page(db, sign_in):
    page = sign_in(user=_account(db, Role.policy_group)).client.get("/equity?months=36").text
    derived = "composition|rearrest_rates|costs|funnel"  # rates, money, or copies of counts
    counts = r'<table class="equity" data-table="(?!' + derived + r')\w+">(.*?)</table>'
    cells = re.findall(counts, page, re.S)
    assert cells
    numbers = [int(n) for body in cells for n in re.findall(r"<td>(\d+)</td>", body)]
    assert numbers and all(n == 0 or n >= 11 for n in numbers)
    assert "suppressed" in page


@pytest.mark.parametrize("months", ["0", "37", "-1", "abc", "99999999999"])
def test_bad_months_are_refused(db, sign_in, months):
    response = sign_in(Role.coordinator).client.get(f"/equity?months={months}")
    assert response.status_code == 422


@pytest.mark.parametrize("role", [Role.officer, Role.case_manager, Role.prosecutor, Role.admin])
def test_other_roles_do_not_open_it(db, sign_in, role):
    assert sign_in(role).client.get("/equity").status_code == 403


def test_the_report_as_pdf_is_logged_and_fetches_nothing(db, sign_in):
    member = sign_in(user=_account(db, Role.policy_group))
    before = len(_aggregate_entries(db))
    response = member.client.get("/equity/report.pdf?months=3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(_aggregate_entries(db)) == before + 1
