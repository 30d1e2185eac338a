"""The caseload (issue 14, item 2): a case manager sees only their own clients, a supervisor
their agency's per case manager; every page is one logged disclosure; a contact moves the
client off the work group's "not seen recently" proposals."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from hub.audit.models import LogEntry
from hub.caserecord.contacts import log_contact
from hub.disclosure.caseload import CaseloadQuery, disclose_caseload
from hub.vocabulary import (
    AgencyKind,
    AgendaItemKind,
    CaseloadSort,
    DisclosureTag,
    ProgramStatus,
    Role,
)
from hub.workgroup.models import WorkGroupMeeting
from hub.workgroup.proposing import compute_proposals
from tests.fixtures.referrals import actor_of, viewer_of


def _all(db: Session, statement) -> list:
    rows = db.exec(statement).all()
    db.commit()
    return list(rows)


@pytest.fixture
def agency(db: Session, factories):
    cm_agency = factories.Agency(kind=AgencyKind.case_management)
    officer = factories.User(role=Role.officer)
    first = factories.User(role=Role.case_manager, agency=cm_agency, display_name="Avery CM")
    second = factories.User(role=Role.case_manager, agency=cm_agency, display_name="Blake CM")
    supervisor = factories.User(role=Role.case_manager_supervisor, agency=cm_agency)
    outsider = factories.User(role=Role.case_manager)
    clients = {}
    for name, owner, seen in (
        ("Ada", first, 40),
        ("Bea", first, 2),
        ("Cy", second, 10),
    ):
        person = factories.Person(
            first_name=name,
            last_name="Client",
            program_status=ProgramStatus.active,
            last_contact_on=date.today() - timedelta(days=seen),
        )
        factories.Referral(
            person_id=person.id, referring_user=officer, case_management_agency_id=cm_agency.id
        )
        factories.ClientAssignment(person_id=person.id, user_id=owner.id)
        clients[name] = person
    return {
        "first": first,
        "second": second,
        "supervisor": supervisor,
        "outsider": outsider,
        "clients": clients,
    }


def test_a_case_manager_sees_only_their_own_clients_longest_unseen_first(db, sign_in, agency):
    client = sign_in(user=agency["first"])
    page = client.client.get("/caseload")
    assert page.status_code == 200
    assert "Ada Client" in page.text and "Bea Client" in page.text
    assert "Cy Client" not in page.text
    assert page.text.index("Ada Client") < page.text.index("Bea Client")  # 40 days, then 2
    reads = _all(db, select(LogEntry).where(LogEntry.tag == DisclosureTag.caseload_read.value))
    assert len(reads) == 1
    ids = {agency["clients"]["Ada"].id, agency["clients"]["Bea"].id}
    assert set(reads[0].detail["person_ids"]) == ids
    assert "identity" in reads[0].categories and "engagement" in reads[0].categories
    filtered = client.client.get("/caseload?status=exited")
    assert "Ada Client" not in filtered.text


def test_a_supervisor_sees_each_case_managers_clients(db, sign_in, agency):
    client = sign_in(user=agency["supervisor"])
    page = client.client.get("/caseload")
    assert all(f"{n} Client" in page.text for n in ("Ada", "Bea", "Cy"))
    assert "Avery CM" in page.text and "Blake CM" in page.text
    one = client.client.get(f"/caseload?case_manager={agency['second'].id}")
    assert "Cy Client" in one.text and "Ada Client" not in one.text
    other = client.client.get(f"/caseload?case_manager={agency['outsider'].id}")
    assert other.status_code == 404


def test_the_caseload_is_paged_by_record_number(db, agency):
    viewer = viewer_of(db, agency["supervisor"])
    query = CaseloadQuery(sort=CaseloadSort.name)
    first = disclose_caseload(db, viewer, actor_of(viewer), query, limit=2)
    assert [r.name for r in first.rows] == ["Ada Client", "Bea Client"]
    assert first.total == 3 and first.next_after == agency["clients"]["Bea"].id
    after = CaseloadQuery(sort=CaseloadSort.name, after=first.next_after)
    second = disclose_caseload(db, viewer, actor_of(viewer), after, limit=2)
    assert [r.name for r in second.rows] == ["Cy Client"] and second.next_after is None


def test_the_caseload_is_closed_to_other_roles(sign_in, agency):
    for role in (Role.officer, Role.prosecutor, Role.defender, Role.coordinator, Role.admin):
        assert sign_in(role).client.get("/caseload").status_code == 403


def test_a_contact_takes_the_client_off_the_agendas_not_seen_proposals(db, factories, agency):
    coordinator = factories.User(role=Role.coordinator)
    meeting = WorkGroupMeeting(
        title="Work group",
        starts_at=datetime.now(UTC) + timedelta(days=2),
        created_by_id=coordinator.id,
    )
    db.add(meeting)
    db.commit()
    ada = agency["clients"]["Ada"]  # last seen 40 days ago

    def not_seen() -> set[int]:
        proposals = compute_proposals(db, meeting, date.today())
        db.commit()
        return {p.person_id for p in proposals if p.kind == AgendaItemKind.not_seen}

    assert ada.id in not_seen()
    viewer = viewer_of(db, agency["first"])
    log_contact(
        db,
        viewer,
        actor_of(viewer),
        ada.id,
        {"contact_on": date.today(), "kind": "in_person", "place_kind": "shelter"},
    )
    assert ada.id not in not_seen()
