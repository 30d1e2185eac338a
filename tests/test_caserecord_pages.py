"""Keeping a client's record through the pages (issue 14, items 2, 3 and 5): a save keeps the
history, a stale save gets a 409 with both versions, bad input every error at once, a refused
write is logged and changes nothing, and history shows only what the read policy allows."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.caserecord.models import ContactEntry, RecordChange
from hub.clients.models import HousingRecord, Person
from hub.vocabulary import (
    AgencyKind,
    ConsentKind,
    DisclosureTag,
    ProgramStatus,
    Role,
    SecurityEventTag,
)
from tests.signing_in import fresh

VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def program(db: Session, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    police = factories.Agency(kind=AgencyKind.police)
    prosecution = factories.Agency(kind=AgencyKind.prosecution)
    case_manager = factories.User(role=Role.case_manager, agency=cm_agency)
    supervisor = factories.User(role=Role.case_manager_supervisor, agency=cm_agency)
    officer = factories.User(role=Role.officer, agency=police)
    prosecutor = factories.User(role=Role.prosecutor, agency=prosecution)
    person = factories.Person(program_status=ProgramStatus.enrolled)
    factories.Referral(
        person_id=person.id,
        referring_user=officer,
        case_management_agency_id=cm_agency.id,
        forwarded_to_agency_id=prosecution.id,
    )
    factories.ClientAssignment(person_id=person.id, user_id=case_manager.id)
    return {
        "case_manager": case_manager,
        "supervisor": supervisor,
        "officer": officer,
        "prosecutor": prosecutor,
        "person": person,
        "prosecution": prosecution,
    }


def _all(db: Session, statement) -> list:
    """Rows read and the read transaction released (SQLite: the app writes next)."""
    rows = db.exec(statement).all()
    db.commit()
    return list(rows)


def _version(response) -> str:
    match = VERSION.search(response.text)
    assert match, response.text[:500]
    return match.group(1)


def test_a_case_manager_keeps_housing_and_a_stale_save_is_a_conflict(db, sign_in, program):
    person = program["person"]
    mine = sign_in(user=program["case_manager"])
    theirs = sign_in(user=program["supervisor"])
    url = f"/clients/{person.id}/record/housing"
    form_a = mine.client.get(url)
    form_b = theirs.client.get(url)
    assert form_a.status_code == 200 and _version(form_a) == _version(form_b) == "0"
    saved = mine.post(
        url,
        data={"version": "0", "living_situation": "101", "waitlist": "Harbor House"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    stale = theirs.post(
        url, data={"version": "0", "living_situation": "116", "waitlist": "Cedar Commons"}
    )
    assert stale.status_code == 409
    assert 'data-conflict="housing"' in stale.text
    assert "Harbor House" in stale.text and "Cedar Commons" in stale.text  # both versions
    housing = fresh(db, db.get(HousingRecord, person.id))
    assert housing.waitlist == "Harbor House" and housing.living_situation == 101
    assert housing.recorded_by_id == program["case_manager"].id
    # Saved again on the version the conflict page offers: now it stands.
    again = theirs.post(
        url,
        data={"version": _version(stale), "living_situation": "116", "waitlist": "Cedar Commons"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    changes = _all(db, select(RecordChange).order_by(col(RecordChange.version)))
    assert [c.version for c in changes] == [1, 2]
    events = _all(db, select(LogEntry).where(LogEntry.tag == SecurityEventTag.record_changed.value))
    assert len(events) == 2


def test_bad_input_gets_every_error_at_once_and_changes_nothing(db, sign_in, program):
    person = program["person"]
    mine = sign_in(user=program["case_manager"])
    future = (date.today() + timedelta(days=3)).isoformat()
    response = mine.post(
        f"/clients/{person.id}/record/housing",
        data={
            "version": "0",
            "living_situation": "12345",
            "waitlist": "x" * 300,
            "waitlist_since": future,
        },
    )
    assert response.status_code == 422
    assert response.text.count('role="alert"') >= 4  # the summary and three fields
    assert _all(db, select(RecordChange)) == []
    status = mine.post(
        f"/clients/{person.id}/record/status",
        data={
            "version": "0",
            "program_status": "exited",
            "reason": "",
            "effective_on": "1900-01-01",
        },
    )
    assert status.status_code == 422
    assert "reason" in status.text and "within the last year" in status.text


@pytest.mark.parametrize("name", ["officer", "prosecutor"])
def test_police_and_prosecution_writes_are_refused_and_logged(db, sign_in, program, name):
    person = program["person"]
    user = program[name]
    client = sign_in(user=user)
    response = client.post(
        f"/clients/{person.id}/record/contact", data={"version": "0", "phone": "555 0100"}
    )
    assert response.status_code == 403  # the door: no record_write for these roles
    assert _all(db, select(RecordChange)) == []


def test_a_colleague_off_the_caseload_is_refused_and_logged(db, sign_in, factories, program):
    person = program["person"]
    colleague = factories.User(role=Role.case_manager, agency_id=program["case_manager"].agency_id)
    client = sign_in(user=colleague)
    response = client.post(
        f"/clients/{person.id}/record/contact", data={"version": "0", "phone": "555 0100"}
    )
    assert response.status_code == 403
    denied = _all(
        db,
        select(LogEntry).where(
            LogEntry.tag == SecurityEventTag.access_denied.value,
            LogEntry.actor_user_id == colleague.id,
        ),
    )
    assert [e.detail["reason"] for e in denied] == ["not_on_caseload"]
    assert _all(db, select(RecordChange)) == []


def test_status_change_is_kept_and_the_prosecutor_learns_it_only_under_engagement(
    db, sign_in, factories, program
):
    person = program["person"]
    mine = sign_in(user=program["case_manager"])
    response = mine.post(
        f"/clients/{person.id}/record/status",
        data={
            "version": "0",
            "program_status": "exited",
            "exit_reason": "moved",
            "reason": "Moved to family in another county",
            "effective_on": date.today().isoformat(),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert fresh(db, db.get(Person, person.id)).program_status == ProgramStatus.exited
    prosecutor = sign_in(user=program["prosecutor"])
    page = prosecutor.client.get(f"/clients/{person.id}")
    assert page.status_code == 200
    assert 'data-withheld="engagement"' in page.text and "exited" not in page.text
    history = prosecutor.client.get(f"/clients/{person.id}/history")
    assert "Moved to family" not in history.text
    # A 42 CFR 2.35 consent naming the office: engagement, so the status, reaches it.
    factories.Consent(
        person_id=person.id,
        kind=ConsentKind.criminal_justice_referral,
        recipient_agency_id=program["prosecution"].id,
        discloser_agency_id=program["case_manager"].agency_id,
        created_by_id=program["case_manager"].id,
    )
    page = prosecutor.client.get(f"/clients/{person.id}")
    assert 'data-disclosure="engagement"' in page.text and "exited" in page.text
    reads = _all(
        db, select(LogEntry).where(LogEntry.tag == DisclosureTag.record_history_read.value)
    )
    assert reads and all(e.person_id == person.id for e in reads)


def test_a_contact_moves_last_contact_forward_only(db, sign_in, program):
    person = program["person"]
    row = db.get(Person, person.id)
    row.last_contact_on = date.today() - timedelta(days=5)
    db.add(row)
    db.commit()
    mine = sign_in(user=program["case_manager"])
    url = f"/clients/{person.id}/contacts"
    older = (date.today() - timedelta(days=9)).isoformat()
    for day, kind in ((older, "in_person"), (date.today().isoformat(), "outreach_attempt")):
        response = mine.post(
            url,
            data={"contact_on": day, "kind": kind, "place_kind": "street"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    assert fresh(db, db.get(Person, person.id)).last_contact_on == date.today() - timedelta(days=5)
    response = mine.post(
        url,
        data={
            "contact_on": date.today().isoformat(),
            "kind": "in_person",
            "place_kind": "shelter",
            "note": "Met at the day shelter",
            "note_category": "engagement",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert fresh(db, db.get(Person, person.id)).last_contact_on == date.today()
    assert len(_all(db, select(ContactEntry))) == 3
    page = mine.client.get(url)
    assert "Met at the day shelter" in page.text
    bad = mine.post(url, data={"contact_on": "", "kind": "teleport", "place_kind": ""})
    assert bad.status_code == 422 and bad.text.count('class="error" id=') == 3
