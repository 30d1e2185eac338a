"""Administration: agency scope (an agency's admin manages only its own users; the program
office's coordinator every agency's), roles that fit the agency, separation of duties, and the
security event of every change."""

from typing import Annotated

import pytest
from fastapi import Depends
from sqlmodel import col, select

from hub.accounts.models import AccessRequest, Agency, User, UserSession
from hub.accounts.sessions import Viewer
from hub.permissions import allowed
from hub.vocabulary import (
    AccessRequestStatus,
    Action,
    AgencyKind,
    Role,
    SecurityEventTag,
    UserStatus,
)
from hub.web.dependencies import require
from tests.audit_support import detail_of
from tests.signing_in import enrol_through_link, fresh, link_in, logged, submit_password

CLIENT_DATA_ACTIONS = [a for a in Action if a.value.startswith(("clients:", "privacy:"))]


@pytest.fixture
def police(factories):
    return factories.Agency(name="Police Department", kind=AgencyKind.police)


@pytest.fixture
def case_management(factories):
    return factories.Agency(name="Case Management Provider", kind=AgencyKind.case_management)


@pytest.fixture
def police_admin(sign_in, factories, police):
    return sign_in(user=factories.User(role=Role.admin, agency_id=police.id))


@pytest.fixture
def coordinator(sign_in, factories):
    office = factories.Agency(name="Program Office", kind=AgencyKind.program_office)
    return sign_in(user=factories.User(role=Role.coordinator, agency_id=office.id))


# --- separation of duties ----------------------------------------------------------------------


@pytest.mark.parametrize("action", CLIENT_DATA_ACTIONS)
def test_admin_holds_no_client_data_action(action):
    assert not allowed(Role.admin, action)


@pytest.fixture
def client_data_route(app):
    """A stand-in for the client routes to come: declared the same way they will be."""

    def probe(viewer: Annotated[Viewer, Depends(require(Action.clients_read))]) -> dict:
        return {"role": viewer.role.value}

    app.add_api_route("/test-only/client-record", probe)
    return "/test-only/client-record"


def test_admin_gets_403_from_a_client_data_route(sign_in, client_data_route):
    assert sign_in(Role.admin).client.get(client_data_route).status_code == 403
    assert sign_in(Role.case_manager).client.get(client_data_route).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.admin, 200),
        (Role.coordinator, 200),
        (Role.officer, 403),
        (Role.case_manager, 403),
        (Role.prosecutor, 403),
        (Role.privacy_officer, 403),
    ],
)
def test_who_reaches_the_admin_pages(sign_in, role, status):
    signed_in = sign_in(role)
    for path in ("/admin/users", "/admin/agencies"):
        assert signed_in.client.get(path).status_code == status
    home = signed_in.client.get("/")
    assert ('href="/admin/users"' in home.text) == (status == 200)
    assert 'href="/account"' in home.text


# --- agency scope ------------------------------------------------------------------------------


def test_agency_admin_sees_and_manages_only_their_own_agency(
    db, factories, police, case_management, police_admin
):
    officer = factories.User(role=Role.officer, agency_id=police.id, display_name="Officer Own")
    outsider = factories.User(
        role=Role.case_manager, agency_id=case_management.id, display_name="Other Agency Person"
    )
    listing = police_admin.client.get("/admin/users").text
    assert "Officer Own" in listing and "Other Agency Person" not in listing
    assert police_admin.client.get(f"/admin/users/{officer.id}").status_code == 200

    assert police_admin.client.get(f"/admin/users/{outsider.id}").status_code == 403
    for action in ("disable", "reset-mfa", "end-sessions", "release"):
        assert police_admin.post(f"/admin/users/{outsider.id}/{action}").status_code == 403
    assert (
        police_admin.post(
            f"/admin/users/{outsider.id}/role", data={"role": "case_manager_supervisor"}
        ).status_code
        == 403
    )
    assert fresh(db, outsider).status == UserStatus.active
    assert fresh(db, outsider).role == Role.case_manager
    denials = logged(db, SecurityEventTag.access_denied, account_id=outsider.id)
    assert len(denials) == 6 and all(d.outcome == "denied" for d in denials)

    created = police_admin.post(
        "/admin/users",
        data={
            "email": "x@example.test",
            "display_name": "X",
            "role": "case_manager",
            "agency_id": str(case_management.id),
        },
    )
    assert created.status_code == 403
    assert police_admin.client.get(f"/admin/agencies/{case_management.id}").status_code == 403


def test_agency_admin_adds_a_user_with_a_role_that_fits(db, police, police_admin):
    wrong_role = police_admin.post(
        "/admin/users",
        data={
            "email": "new@example.test",
            "display_name": "New Person",
            "role": "prosecutor",
            "agency_id": str(police.id),
        },
    )
    assert wrong_role.status_code == 400
    assert "police agency" in wrong_role.text
    created = police_admin.post(
        "/admin/users",
        data={
            "email": "New@Example.test",
            "display_name": "New Person",
            "role": "sergeant",
            "agency_id": str(police.id),
        },
    )
    assert created.status_code == 201
    assert "shown only now" in created.text
    user = db.exec(select(User).where(col(User.email) == "new@example.test")).one()
    db.commit()
    assert user.role == Role.sergeant and user.mfa_enrolled_at is None
    assert logged(db, SecurityEventTag.user_created, account_id=user.id)
    again = police_admin.post(
        "/admin/users",
        data={
            "email": "new@example.test",
            "display_name": "Again",
            "role": "sergeant",
            "agency_id": str(police.id),
        },
    )
    assert again.status_code == 400 and "exists already" in again.text


def test_a_new_user_enrols_through_the_link_before_first_sign_in(db, police, police_admin, client):
    # Issue 12: the creator hands over a one-time link, not a first password; the person sets
    # their password and second factor through it.
    created = police_admin.post(
        "/admin/users",
        data={
            "email": "first@example.test",
            "display_name": "First",
            "role": "officer",
            "agency_id": str(police.id),
        },
    )
    response, _ = enrol_through_link(client, link_in(created), "my own long passphrase")
    assert response.status_code == 200 and "recovery codes" in response.text
    user = db.exec(select(User).where(col(User.email) == "first@example.test")).one()
    db.commit()
    assert user.mfa_enrolled_at is not None and user.status == UserStatus.pending


def test_agency_admin_cannot_add_agencies_but_the_program_office_can(db, police_admin, coordinator):
    assert "Add an agency" not in police_admin.client.get("/admin/agencies").text
    refused = police_admin.post("/admin/agencies", data={"name": "Sheriff", "kind": "police"})
    assert refused.status_code == 403
    assert logged(db, SecurityEventTag.access_denied, action="create_agency")

    made = coordinator.post(
        "/admin/agencies",
        data={"name": "City Attorney", "kind": "prosecution", "jurisdiction": "misdemeanor"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    agency = db.exec(select(Agency).where(col(Agency.name) == "City Attorney")).one()
    db.commit()
    assert agency.kind == AgencyKind.prosecution and agency.jurisdiction == "misdemeanor"
    assert logged(db, SecurityEventTag.agency_created, agency_id=agency.id)
    duplicate = coordinator.post(
        "/admin/agencies", data={"name": "city attorney", "kind": "defense"}
    )
    assert duplicate.status_code == 400

    renamed = coordinator.post(
        f"/admin/agencies/{agency.id}", data={"name": "City Attorney's Office", "jurisdiction": ""}
    )
    assert renamed.status_code == 200
    assert fresh(db, agency).name == "City Attorney's Office"
    assert logged(db, SecurityEventTag.agency_changed, agency_id=agency.id)


def _approve_pending(db, approver, user):
    request = db.exec(
        select(AccessRequest).where(
            col(AccessRequest.user_id) == user.id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
    ).one()
    db.commit()
    assert approver.post(f"/admin/approvals/{request.id}/approve").status_code == 200


def test_program_office_manages_every_agency(
    db, factories, sign_in, police, case_management, coordinator
):
    officer = factories.User(role=Role.officer, agency_id=police.id, display_name="P Officer")
    manager = factories.User(
        role=Role.case_manager, agency_id=case_management.id, display_name="C Manager"
    )
    listing = coordinator.client.get("/admin/users").text
    assert "P Officer" in listing and "C Manager" in listing
    assert (
        coordinator.post(
            f"/admin/users/{manager.id}/role", data={"role": "case_manager_supervisor"}
        ).status_code
        == 200
    )
    # Issue 12: the new role waits for a supervisor of the agency to approve it.
    assert fresh(db, manager).role == Role.case_manager
    supervisor = factories.User(role=Role.case_manager_supervisor, agency_id=case_management.id)
    _approve_pending(db, sign_in(user=supervisor), manager)
    assert fresh(db, manager).role == Role.case_manager_supervisor
    assert coordinator.post(f"/admin/users/{officer.id}/disable").status_code == 200
    assert fresh(db, officer).status == UserStatus.disabled


def test_an_admin_of_another_agency_kind_is_scoped_too(db, factories, sign_in, police):
    office = factories.Agency(kind=AgencyKind.program_office)
    office_admin = sign_in(user=factories.User(role=Role.admin, agency_id=office.id))
    officer = factories.User(role=Role.officer, agency_id=police.id)
    # Only the coordinator speaks for the program office across agencies.
    assert office_admin.post(f"/admin/users/{officer.id}/disable").status_code == 403


# --- each administrative change, and its log entry ---------------------------------------------


def test_role_change_fits_the_agency_and_ends_sessions(
    db, factories, sign_in, police, police_admin
):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    officer_session = sign_in(user=officer)
    refused = police_admin.post(f"/admin/users/{officer.id}/role", data={"role": "case_manager"})
    assert refused.status_code == 400
    assert fresh(db, officer).role == Role.officer
    assert (
        police_admin.post(f"/admin/users/{officer.id}/role", data={"role": "sergeant"}).status_code
        == 200
    )
    # Issue 12: nothing changes until a sergeant of the agency approves the new role.
    assert fresh(db, officer).role == Role.officer
    assert officer_session.client.get("/", follow_redirects=False).status_code == 200
    sergeant = sign_in(user=factories.User(role=Role.sergeant, agency_id=police.id))
    _approve_pending(db, sergeant, officer)
    assert fresh(db, officer).role == Role.sergeant
    assert officer_session.client.get("/", follow_redirects=False).status_code == 303
    entry = logged(db, SecurityEventTag.user_changed, account_id=officer.id)[0]
    assert (
        detail_of(entry)["role_before"] == "officer"
        and detail_of(entry)["role_after"] == "sergeant"
    )
    assert entry.actor_user_id == sergeant.user.id and entry.actor_role == "sergeant"
    asked = logged(db, SecurityEventTag.access_requested, account_id=officer.id)[0]
    assert asked.actor_user_id == police_admin.user.id and asked.actor_role == "admin"


def test_disable_and_enable(db, factories, sign_in, police, police_admin):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    assert police_admin.post(f"/admin/users/{officer.id}/disable").status_code == 200
    assert fresh(db, officer).status == UserStatus.disabled
    assert police_admin.post(f"/admin/users/{officer.id}/enable").status_code == 200
    # Issue 12: enabling again waits for a second person's approval.
    assert fresh(db, officer).status == UserStatus.pending
    sergeant = sign_in(user=factories.User(role=Role.sergeant, agency_id=police.id))
    _approve_pending(db, sergeant, officer)
    assert fresh(db, officer).status == UserStatus.active
    assert logged(db, SecurityEventTag.user_disabled, account_id=officer.id)
    assert logged(db, SecurityEventTag.user_changed, account_id=officer.id, status_after="active")


def test_reset_mfa_sends_the_person_to_enrolment(
    db, factories, sign_in, client, police, police_admin
):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    officer_session = sign_in(user=officer)
    assert police_admin.post(f"/admin/users/{officer.id}/reset-mfa").status_code == 200
    officer = fresh(db, officer)
    assert officer.totp_secret_sealed is None and officer.mfa_enrolled_at is None
    assert officer_session.client.get("/", follow_redirects=False).status_code == 303
    assert logged(db, SecurityEventTag.mfa_reset, account_id=officer.id)
    assert submit_password(client, officer.email).headers["location"] == "/sign-in/enrol"


def test_end_a_users_sessions(db, factories, sign_in, police, police_admin):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    sessions = [sign_in(user=officer) for _ in range(2)]
    response = police_admin.post(f"/admin/users/{officer.id}/end-sessions")
    assert response.status_code == 200
    for session in sessions:
        assert session.client.get("/", follow_redirects=False).status_code == 303
    reasons = db.exec(
        select(UserSession.ended_reason).where(col(UserSession.user_id) == officer.id)
    ).all()
    db.commit()
    assert reasons == ["ended_by_admin", "ended_by_admin"]
    entry = logged(db, SecurityEventTag.session_ended_by_admin, account_id=officer.id)[0]
    assert detail_of(entry)["sessions_ended"] == 2


def test_release_refuses_an_account_that_is_not_locked(factories, police, police_admin):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    response = police_admin.post(f"/admin/users/{officer.id}/release")
    assert response.status_code == 400 and "not locked" in response.text


def test_a_manager_does_not_change_their_own_account(db, police_admin):
    me = police_admin.user.id
    for action in ("disable", "reset-mfa"):
        response = police_admin.post(f"/admin/users/{me}/{action}")
        assert response.status_code == 400 and "another administrator" in response.text
    assert fresh(db, police_admin.user).status == UserStatus.active


def test_admin_forms_without_csrf_are_refused(db, factories, police, police_admin):
    officer = factories.User(role=Role.officer, agency_id=police.id)
    response = police_admin.client.post(f"/admin/users/{officer.id}/disable")
    assert response.status_code == 403
    assert fresh(db, officer).status == UserStatus.active
