"""The caseload at a glance (issue 17, item 9): the page's clients counted by program status and
intake clock, from the rows the policy layer already disclosed; charts are safe SVG, each
followed by its data table."""

import re
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest

from hub.caserecord.glance import DONE, DUE_SOON, ON_TIME, OVERDUE, caseload_glance, clock_state
from hub.disclosure.caseload import CaseloadRow
from hub.vocabulary import AgencyKind, ProgramStatus, Role
from tests.chart_support import charts_with_their_tables
from tests.fixtures.security_headers import assert_security_headers

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 10:00 on 20 November in the site's zone
TODAY = date(2026, 11, 20)


def _row(person_id: int, status, due, done=False) -> CaseloadRow:
    return CaseloadRow(
        person_id=person_id,
        case_manager_id=1,
        name=None,
        program_status=status,
        last_contact_on=None,
        days_since_contact=None,
        intake_due_on=due,
        intake_done=done if due else None,
        next_step=None,
        open_action_items=None,
        consent_expires_on=None,
    )


def test_the_clock_state_of_a_row():
    assert (
        clock_state(_row(1, ProgramStatus.referred, TODAY + timedelta(days=20)), TODAY) == ON_TIME
    )
    assert (
        clock_state(_row(1, ProgramStatus.referred, TODAY + timedelta(days=3)), TODAY) == DUE_SOON
    )
    assert clock_state(_row(1, ProgramStatus.referred, TODAY), TODAY) == DUE_SOON
    assert clock_state(_row(1, ProgramStatus.screened, TODAY - timedelta(days=1)), TODAY) == OVERDUE
    late_but_done = _row(1, ProgramStatus.enrolled, TODAY - timedelta(days=9), done=True)
    assert clock_state(late_but_done, TODAY) == DONE


def test_the_glance_counts_only_what_the_rows_show():
    rows = [
        _row(1, ProgramStatus.referred, TODAY + timedelta(days=2)),
        _row(2, ProgramStatus.active, TODAY - timedelta(days=40), done=True),
        _row(3, ProgramStatus.active, TODAY - timedelta(days=1)),
        _row(4, None, None),  # engagement withheld from this viewer
    ]
    glance = caseload_glance(rows, TODAY)
    assert glance is not None
    assert dict(glance.statuses)[ProgramStatus.active] == 2
    assert dict(glance.statuses)[ProgramStatus.referred] == 1
    assert dict(glance.clocks) == {ON_TIME: 0, DUE_SOON: 1, OVERDUE: 1, DONE: 1}
    assert glance.withheld == 1
    assert caseload_glance([], TODAY) is None


@pytest.fixture
def caseload(db, factories):
    agency = factories.Agency(kind=AgencyKind.case_management)
    officer = factories.User(role=Role.officer)
    cm = factories.User(role=Role.case_manager, agency=agency)
    for name, status, due, done in (
        ("Ada", ProgramStatus.referred, TODAY + timedelta(days=3), False),
        ("Bea", ProgramStatus.active, TODAY - timedelta(days=30), True),
        ("Cy", ProgramStatus.screened, TODAY - timedelta(days=2), False),
    ):
        person = factories.Person(first_name=name, last_name="Client", program_status=status)
        factories.Referral(
            person_id=person.id,
            referring_user=officer,
            case_management_agency_id=agency.id,
            referred_at=NOW - timedelta(days=40),
            intake_due_on=due,
            intake_done_at=NOW - timedelta(days=31) if done else None,
        )
        factories.ClientAssignment(person_id=person.id, user_id=cm.id)
    return cm


def test_the_caseload_page_shows_both_charts_each_followed_by_its_data(db, sign_in, caseload):
    client = sign_in(user=caseload).client
    with mock.patch("hub.caserecord.caseload_routes.utcnow", return_value=NOW):
        response = client.get("/caseload")
    page = response.text
    assert charts_with_their_tables(page) == ["caseload_status", "caseload_clock"]
    clock = page.split('data-table="caseload_clock"')[1].split("</table>")[0]
    counts = dict(re.findall(r'<th scope="row">([a-z ]+)</th><td>(\d+)</td>', clock))
    assert counts == {"on time": "0", "due soon": "1", "overdue": "1", "done": "1"}
    status = page.split('data-table="caseload_status"')[1].split("</table>")[0]
    assert '<th scope="row">screened</th><td>1</td>' in status
    assert_security_headers(response)  # the CSP stays strict with the charts inline
    # The glance travels with the rows when htmx swaps them.
    with mock.patch("hub.caserecord.caseload_routes.utcnow", return_value=NOW):
        swapped = client.get("/caseload?status=active", headers={"HX-Request": "true"}).text
    assert 'data-chart="caseload_status"' in swapped and "Bea Client" in swapped
