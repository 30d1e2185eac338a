"""The record's writes under /api/v1 (issue 14, item 9): a read-and-write token keeps the
sections, logs contacts and changes the status under the write policy; a stale version is a
409; bad input a 422 naming every field; a read-only token and other roles are refused."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hub.accounts.own_access import create_api_token
from hub.audit.log import Actor
from hub.caserecord.models import ContactEntry, RecordChange
from hub.clients.models import Person, PersonContact
from hub.vocabulary import AgencyKind, ProgramStatus, Role, TokenScope
from tests.signing_in import fresh


def _all(db: Session, statement) -> list:
    rows = db.exec(statement).all()
    db.commit()
    return list(rows)


@pytest.fixture
def client_of(db, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    case_manager = factories.User(role=Role.case_manager, agency=cm_agency)
    person = factories.Person(program_status=ProgramStatus.active)
    factories.ClientAssignment(person_id=person.id, user_id=case_manager.id)
    return case_manager, person


def test_a_records_system_keeps_contact_with_versions(db, api, client_of):
    case_manager, person = client_of
    http = api(case_manager)
    url = f"/api/v1/clients/{person.id}/contact"
    first = http.put(url, json={"version": 0, "phone": "555 0100", "staying_at": "Day shelter"})
    assert first.status_code == 200, first.text
    assert first.json() == {"person_id": person.id, "section": "contact", "version": 1}
    stale = http.put(url, json={"version": 0, "phone": "555 0199"})
    assert stale.status_code == 409
    assert fresh(db, db.get(PersonContact, person.id)).phone == "555 0100"
    bad = http.put(url, json={"version": 1, "phone": "call me maybe", "staying_at": "x" * 201})
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["detail"]} == {"phone", "staying_at"}
    assert len(_all(db, select(RecordChange))) == 1


def test_status_and_contacts_through_the_api(db, api, client_of):
    case_manager, person = client_of
    http = api(case_manager)
    status = http.post(
        f"/api/v1/clients/{person.id}/status",
        json={
            "version": 0,
            "program_status": "not_engaged",
            "reason": "No contact since the shelter closed",
            "effective_on": date.today().isoformat(),
        },
    )
    assert status.status_code == 200, status.text
    assert fresh(db, db.get(Person, person.id)).program_status == ProgramStatus.not_engaged
    logged = http.post(
        f"/api/v1/clients/{person.id}/contacts",
        json={"contact_on": date.today().isoformat(), "kind": "in_person", "place_kind": "street"},
    )
    assert logged.status_code == 201, logged.text
    assert len(_all(db, select(ContactEntry))) == 1
    assert fresh(db, db.get(Person, person.id)).last_contact_on == date.today()


def test_a_read_only_token_and_other_roles_are_refused(db, app, api, factories, client_of):
    case_manager, person = client_of
    token = create_api_token(
        db, Actor(user_id=case_manager.id), case_manager, "reader", 30, scope=TokenScope.read
    )
    db.commit()
    with TestClient(app, base_url="https://testserver") as reader:
        reader.headers["Authorization"] = f"Bearer {token}"
        response = reader.put(f"/api/v1/clients/{person.id}/contact", json={"version": 0})
        assert response.status_code == 403
    defender = factories.User(role=Role.defender)
    response = api(defender).put(f"/api/v1/clients/{person.id}/contact", json={"version": 0})
    assert response.status_code == 403
    colleague = factories.User(role=Role.case_manager, agency_id=case_manager.agency_id)
    response = api(colleague).put(f"/api/v1/clients/{person.id}/contact", json={"version": 0})
    assert response.status_code == 403
    assert _all(db, select(RecordChange)) == []
