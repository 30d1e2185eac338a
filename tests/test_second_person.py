"""Issue 12, items 3 and 5: court orders and caseload moves take a second person. Each insider
path (a privacy officer naming their own agency or confirming their own order, a case manager
taking a colleague's client) ends refused or pending, and logged; nothing more is disclosed
until the second person acts; the privacy console flags every such change."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from hub.accounts.sessions import viewer_for
from hub.clients.models import ClientAssignment
from hub.db import ident
from hub.disclosure.models import CourtOrder, CourtOrderDocument
from hub.disclosure.policy import gather_facts
from hub.disclosure.services import CourtOrderForm, confirm_court_order, record_court_order
from hub.keyrotation import sealed_columns
from hub.notifications.models import Notification
from hub.referrals.models import CaseloadRequest, Referral
from hub.vocabulary import (
    AgencyKind,
    AssignmentKind,
    CaseloadRequestStatus,
    Category,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
)
from tests.audit_support import detail_of
from tests.client_world import disclosed_in
from tests.fixtures.small_program import ACTOR
from tests.signing_in import logged

# A minimal PDF: the hub sniffs the first bytes, whatever the browser says the file is.
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HEALTH_AND_TREATMENT = ("Anxiety", "Asthma", "Outpatient MOUD", "Buprenorphine")
TODAY = datetime.now(UTC).date()


def order_form(program, recipient_id, **changes):
    fields = {
        "person_id": str(program.person.id),
        "recipient_agency_id": str(recipient_id),
        "categories": ["treatment"],
        "purposes": ["charging_decision"],
        "court": "Salish County Superior Court",
        "judge": "Hon. A. Example",
        "order_reference": "26-1-00017-3",
        "rule": "2.65",
        "scope": "Treatment records, for the charging decision on the pending matter.",
        "issued_on": (TODAY - timedelta(days=1)).isoformat(),
        "expires_on": (TODAY + timedelta(days=30)).isoformat(),
    }
    fields.update(changes)
    return fields


def upload(content=PDF, content_type="application/pdf"):
    return {"document": ("order.pdf", content, content_type)}


def refusals(db, action):
    return [
        e for e in logged(db, SecurityEventTag.access_denied) if detail_of(e)["action"] == action
    ]


def orders(db):
    # The app wrote them in its own session: refresh what this one holds.
    found = db.exec(select(CourtOrder).execution_options(populate_existing=True)).all()
    db.commit()
    return found


# --- item 3: court orders ---------------------------------------------------------------------


def test_a_privacy_officer_naming_their_own_agency_is_refused_and_reads_nothing(
    db, program, sign_in, factories
):
    office = factories.Agency(kind=AgencyKind.oversight)
    privacy = sign_in(Role.privacy_officer, agency=office)
    pid = program.person.id
    refused = privacy.post(
        "/privacy/court-orders",
        data=order_form(
            program, office.id, categories=["identity", "treatment"], purposes=["oversight"]
        ),
        files=upload(),
    )
    assert refused.status_code == 422 and "their own agency" in refused.text
    assert orders(db) == []
    assert [e.actor_user_id for e in refusals(db, "court_order:record_own_agency")] == [
        privacy.user.id
    ]
    page = privacy.client.get(f"/clients/{pid}").text
    assert "treatment" not in disclosed_in(page)
    assert not any(t in page for t in HEALTH_AND_TREATMENT)


def test_a_court_order_takes_effect_only_when_a_second_privacy_officer_confirms(
    db, program, sign_in
):
    pid = program.person.id
    recorder, confirmer = sign_in(Role.privacy_officer), sign_in(Role.privacy_officer)
    prosecutor = sign_in(user=program.prosecutor)
    recorded = recorder.post(
        "/privacy/court-orders",
        data=order_form(program, program.prosecution.id),
        files=upload(content_type="application/octet-stream"),
    )
    assert recorded.status_code == 200 and "takes effect when another" in recorded.text
    (order,) = orders(db)
    assert order.confirmed_at is None and order.judge == "Hon. A. Example"
    assert notes(db, NotificationKind.court_order_awaiting) == [confirmer.user.id]
    # Recorded, not confirmed: the prosecutor still sees no treatment.
    assert "treatment" not in disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)

    own = recorder.post(f"/privacy/court-orders/{order.id}/confirm")
    assert own.status_code == 422 and "other than the one who recorded" in own.text
    assert orders(db)[0].confirmed_at is None
    assert len(refusals(db, "court_order:confirm_own")) == 1
    assert "treatment" not in disclosed_in(prosecutor.client.get(f"/clients/{pid}").text)

    waiting = confirmer.client.get("/privacy/court-orders").text
    assert f'action="/privacy/court-orders/{order.id}/confirm"' in waiting
    assert confirmer.post(f"/privacy/court-orders/{order.id}/confirm").status_code == 200
    assert orders(db)[0].confirmed_by_id == confirmer.user.id
    assert logged(db, SecurityEventTag.court_order_confirmed, id=order.id)
    page = prosecutor.client.get(f"/clients/{pid}").text
    assert "treatment" in disclosed_in(page) and "health" not in disclosed_in(page)

    # The privacy console flags the order, with its confirmation.
    assert recorder.post("/privacy/flags/compute").status_code == 200
    flags = confirmer.client.get("/privacy/flags?rule=court_order_pending").text
    assert "court order pending" in flags and "confirmed by a second privacy officer" in flags


def test_the_copy_is_sealed_at_rest_and_downloads_as_a_logged_attachment(db, program, sign_in):
    privacy = sign_in(Role.privacy_officer)
    privacy.post(
        "/privacy/court-orders", data=order_form(program, program.prosecution.id), files=upload()
    )
    (order,) = orders(db)
    raw = db.execute(text("SELECT content FROM court_order_document")).scalar_one()
    db.commit()
    assert raw.startswith("v1:") and "%PDF" not in raw and "JVBERi" not in raw
    # `hub keys rotate` re-seals it with every other sealed value.
    assert ("court_order_document", "id", "content") in sealed_columns()

    other = sign_in(Role.privacy_officer)
    copy = other.client.get(f"/privacy/court-orders/{order.id}/copy")
    assert copy.status_code == 200 and copy.content == PDF
    assert copy.headers["content-type"] == "application/pdf"
    assert (
        copy.headers["content-disposition"] == f'attachment; filename="court-order-{order.id}.pdf"'
    )
    (read,) = logged(db, SecurityEventTag.court_order_document_read, id=order.id)
    assert read.actor_user_id == other.user.id
    prosecutor = sign_in(user=program.prosecutor)
    assert prosecutor.client.get(f"/privacy/court-orders/{order.id}/copy").status_code == 403


@pytest.mark.parametrize(
    "content,content_type,error",
    [
        (b"GIF89a not a pdf", "application/pdf", "as a PDF"),
        (b"", "application/pdf", "as a PDF"),
        (PDF + b"x" * 4096, "application/pdf", "larger than"),
    ],
)
def test_the_copy_must_be_a_pdf_within_the_limit(
    db, program, sign_in, settings_env, content, content_type, error
):
    settings_env(court_order_max_bytes=2048)
    privacy = sign_in(Role.privacy_officer)
    response = privacy.post(
        "/privacy/court-orders",
        data=order_form(program, program.prosecution.id),
        files=upload(content, content_type),
    )
    assert response.status_code == 422 and error in response.text
    assert orders(db) == []
    assert db.exec(select(CourtOrderDocument)).all() == []


def test_only_a_confirmed_unexpired_order_counts(db, program, factories):
    recorder = factories.User(role=Role.privacy_officer)
    confirmer = factories.User(role=Role.privacy_officer)
    issued = date(2026, 3, 1)
    form = CourtOrderForm(
        person_id=program.person.id,
        recipient_agency_id=program.prosecution.id,
        categories=[Category.treatment],
        purposes=[Purpose.charging_decision],
        court="Superior Court",
        order_reference="26-1-00001",
        rule="2.64",
        scope="Treatment records for the pending matter",
        issued_on=issued,
        expires_on=issued + timedelta(days=30),
        judge="Hon. B. Example",
        document=PDF,
    )
    actor = ACTOR
    order = record_court_order(db, viewer_for(db, recorder), form, actor)
    prosecutor = viewer_for(db, program.prosecutor)
    confirmed_at = datetime(2026, 3, 2, 12, tzinfo=UTC)

    def orders_on(moment):
        return gather_facts(db, prosecutor, program.person.id, moment).court_orders

    assert orders_on(datetime(2026, 3, 10, tzinfo=UTC)) == ()  # not confirmed
    confirm_court_order(db, viewer_for(db, confirmer), ident(order.id), actor)
    stored = db.get(CourtOrder, order.id)
    stored.confirmed_at = confirmed_at  # the clock, set: confirmed at noon on the 2nd
    db.add(stored)
    db.commit()
    assert orders_on(datetime(2026, 3, 2, 11, tzinfo=UTC)) == ()  # before the confirmation
    assert [o.id for o in orders_on(datetime(2026, 3, 10, tzinfo=UTC))] == [order.id]
    assert [o.id for o in orders_on(datetime(2026, 3, 31, 23, tzinfo=UTC))] == [order.id]
    assert orders_on(datetime(2026, 4, 1, tzinfo=UTC)) == ()  # expired


# --- item 5: caseload changes -----------------------------------------------------------------


@pytest.fixture
def team(db, program, factories):
    """Two more case managers and a supervisor at the client's agency; a supervisor elsewhere."""
    program.taker = factories.User(role=Role.case_manager, agency=program.cm_agency)
    program.supervisor = factories.User(role=Role.case_manager_supervisor, agency=program.cm_agency)
    program.other_supervisor = factories.User(role=Role.case_manager_supervisor)
    program.referral = db.exec(
        select(Referral).where(Referral.person_id == program.person.id)
    ).one()
    db.commit()
    return program


def holders(db, person_id):
    found = db.exec(
        select(ClientAssignment.user_id).where(
            ClientAssignment.person_id == person_id,
            ClientAssignment.kind == AssignmentKind.caseload,
            col(ClientAssignment.ended_at).is_(None),
        )
    ).all()
    db.commit()
    return found


def notes(db, kind):
    found = db.exec(select(Notification.user_id).where(Notification.kind == kind)).all()
    db.commit()
    return sorted(found)


def test_taking_a_colleagues_client_is_a_request_that_discloses_nothing_more(db, team, sign_in):
    pid, rid = team.person.id, team.referral.id
    taker = sign_in(user=team.taker)
    asked = taker.post(f"/referrals/{rid}/caseload", data={"case_manager_id": team.taker.id})
    assert asked.status_code == 200 and "sent to a supervisor" in asked.text
    assert not any(t in asked.text for t in HEALTH_AND_TREATMENT)
    assert holders(db, pid) == [team.case_manager.id]
    (request,) = db.exec(select(CaseloadRequest)).all()
    db.commit()
    assert request.status == CaseloadRequestStatus.pending
    assert request.previous_case_manager_id == team.case_manager.id
    assert logged(db, SecurityEventTag.caseload_requested, caseload_request_id=request.id)
    assert notes(db, NotificationKind.caseload_requested) == [team.supervisor.id]
    record = taker.client.get(f"/clients/{pid}").text
    assert not {"health", "treatment"} & disclosed_in(record)
    assert not any(t in record for t in HEALTH_AND_TREATMENT)

    # The case manager cannot approve it; a supervisor of another agency cannot either.
    assert taker.post(f"/caseload-requests/{request.id}/approve").status_code == 403
    assert refusals(db, "referrals:caseload:approve")
    elsewhere = sign_in(user=team.other_supervisor)
    assert elsewhere.post(f"/caseload-requests/{request.id}/approve").status_code == 400
    assert refusals(db, "caseload:decide")
    assert holders(db, pid) == [team.case_manager.id]

    supervisor = sign_in(user=team.supervisor)
    queue = supervisor.client.get("/caseload-requests").text
    assert f'action="/caseload-requests/{request.id}/approve"' in queue
    approved = supervisor.post(f"/caseload-requests/{request.id}/approve")
    assert approved.status_code == 200 and "approved" in approved.text
    assert holders(db, pid) == [team.taker.id]
    assert notes(db, NotificationKind.caseload_changed) == [team.case_manager.id]
    assert logged(db, SecurityEventTag.caseload_request_approved, caseload_request_id=request.id)
    assert "Buprenorphine" in taker.client.get(f"/clients/{pid}").text

    privacy = sign_in(Role.privacy_officer)
    privacy.post("/privacy/flags/compute")
    flags = privacy.client.get("/privacy/flags?rule=caseload_change").text
    assert "caseload change" in flags and f"Caseload request {request.id}" in flags
    assert "approved by a supervisor" in flags


def test_a_refused_request_changes_nothing(db, team, sign_in):
    taker = sign_in(user=team.taker)
    taker.post(f"/referrals/{team.referral.id}/caseload", data={"case_manager_id": team.taker.id})
    again = taker.post(
        f"/referrals/{team.referral.id}/caseload", data={"case_manager_id": team.taker.id}
    )
    assert again.status_code == 400 and "already requested" in again.text
    (request,) = db.exec(select(CaseloadRequest)).all()
    db.commit()
    supervisor = sign_in(user=team.supervisor)
    assert supervisor.post(f"/caseload-requests/{request.id}/refuse").status_code == 200
    assert holders(db, team.person.id) == [team.case_manager.id]
    assert logged(db, SecurityEventTag.caseload_request_refused, caseload_request_id=request.id)
    assert notes(db, NotificationKind.caseload_changed) == []
    twice = supervisor.post(f"/caseload-requests/{request.id}/approve")
    assert twice.status_code == 400 and "already decided" in twice.text
    assert holders(db, team.person.id) == [team.case_manager.id]


def test_a_supervisor_moves_a_client_directly_and_the_previous_case_manager_is_told(
    db, team, sign_in
):
    supervisor = sign_in(user=team.supervisor)
    moved = supervisor.post(
        f"/referrals/{team.referral.id}/caseload", data={"case_manager_id": team.taker.id}
    )
    assert moved.status_code == 200 and "assigned" in moved.text
    assert holders(db, team.person.id) == [team.taker.id]
    assert notes(db, NotificationKind.caseload_changed) == [team.case_manager.id]
    # A case manager handing the client to a colleague is refused, and logged.
    taker = sign_in(user=team.taker)
    refused = taker.post(
        f"/referrals/{team.referral.id}/caseload", data={"case_manager_id": team.case_manager.id}
    )
    assert refused.status_code == 400 and "own caseload" in refused.text
    assert refusals(db, "caseload:assign")
    assert holders(db, team.person.id) == [team.taker.id]
