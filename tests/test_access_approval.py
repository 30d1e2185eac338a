"""Separation of duties for accounts (issue 12, item 2; CJIS AC-2, AC-5, IA-5): whoever
creates an account never learns its password; the person enrols through a one-time link; the
account opens only when a second person approves it; the coordinator creates no privacy
officers or admins; every new access raises a "new access" flag."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import col, select, update

from hub.accounts import approvals, rules
from hub.accounts.models import AccessRequest, EnrolmentLink, User
from hub.audit.log import Actor
from hub.db import utcnow
from hub.privacy.flags.computing import compute_flags
from hub.privacy.models import ReviewFlag
from hub.vocabulary import (
    AccessRequestStatus,
    AgencyKind,
    FlagRule,
    Role,
    SecurityEventTag,
    UserStatus,
)
from tests.audit_support import detail_of
from tests.fixtures.markup import first_group
from tests.signing_in import (
    code_for,
    csrf_of,
    enrol_through_link,
    fresh,
    link_in,
    logged,
    sign_in_for_real,
    submit_password,
)


@pytest.fixture
def evergreen(factories):
    return factories.Agency(name="Evergreen Health & Recovery", kind=AgencyKind.case_management)


@pytest.fixture
def evergreen_admin(sign_in, factories, evergreen):
    return sign_in(
        user=factories.User(
            role=Role.admin, agency_id=evergreen.id, email="admin1@evergreen-hrs.example"
        )
    )


@pytest.fixture
def evergreen_supervisor(sign_in, factories, evergreen):
    return sign_in(user=factories.User(role=Role.case_manager_supervisor, agency_id=evergreen.id))


@pytest.fixture
def program_office(factories):
    return factories.Agency(name="Cascadia LEAD", kind=AgencyKind.program_office)


@pytest.fixture
def coordinator(sign_in, factories, program_office):
    return sign_in(
        user=factories.User(
            role=Role.coordinator,
            agency_id=program_office.id,
            email="coordinator1@cascadia-lead.example",
        )
    )


def _create(manager, agency, role, email="new@evergreen-hrs.example"):
    return manager.post(
        "/admin/users",
        data={
            "email": email,
            "display_name": "New Person",
            "role": role.value,
            "agency_id": str(agency.id),
        },
    )


def _account(db, email):
    user = db.exec(select(User).where(col(User.email) == email)).one()
    db.commit()
    return user


def _request_of(db, user):
    request = db.exec(select(AccessRequest).where(col(AccessRequest.user_id) == user.id)).all()[-1]
    db.commit()
    return request


def test_the_creator_gets_a_link_never_a_password_and_a_supervisor_opens_the_account(
    db, client, evergreen, evergreen_admin, evergreen_supervisor
):
    created = _create(evergreen_admin, evergreen, Role.case_manager_supervisor)
    assert created.status_code == 201
    # The one secret shown is the link: no password to hand over.
    shown = re.findall(r'<code class="secret">([^<]+)</code>', created.text)
    path = link_in(created)
    assert shown == [f"https://testserver{path}"]
    user = _account(db, "new@evergreen-hrs.example")
    assert user.status == UserStatus.pending and user.mfa_enrolled_at is None

    # The link's secret is kept hashed; the creator saw the only copy.
    (link,) = db.exec(select(EnrolmentLink).where(col(EnrolmentLink.user_id) == user.id)).all()
    db.commit()
    assert path.rsplit("/", 1)[1] not in link.token_hash

    # The new person sets their own password and second factor through the link.
    enrolled, _ = enrol_through_link(client, path, "a passphrase only I know")
    assert enrolled.status_code == 200
    assert "waits for a second person" in enrolled.text
    assert logged(db, SecurityEventTag.enrolment_completed, account_id=user.id)
    # Used once: the link opens nothing the second time.
    assert client.get(path).status_code == 404

    # Until a second person approves, the account signs no one in.
    client.cookies.clear()
    refused = submit_password(client, user.email, "a passphrase only I know")
    assert refused.status_code == 401

    # The creator may not approve it (an admin is no approver of a supervisor): refused, logged.
    request = _request_of(db, user)
    assert "New Person" not in evergreen_admin.client.get("/admin/approvals").text
    denied = evergreen_admin.post(f"/admin/approvals/{request.id}/approve")
    assert denied.status_code == 403
    assert logged(db, SecurityEventTag.access_denied, request_id=request.id)
    assert fresh(db, user).status == UserStatus.pending

    # A supervisor of the agency approves it.
    listed = evergreen_supervisor.client.get("/admin/approvals")
    assert "New Person" in listed.text
    approved = evergreen_supervisor.post(f"/admin/approvals/{request.id}/approve")
    assert approved.status_code == 200
    assert fresh(db, user).status == UserStatus.active
    entry = logged(db, SecurityEventTag.access_approved, account_id=user.id)[0]
    assert entry.actor_user_id == evergreen_supervisor.user.id
    assert detail_of(entry)["requested_by_id"] == evergreen_admin.user.id

    # Only now, and only with the password the person chose.
    client.cookies.clear()
    signed = submit_password(client, user.email, "a passphrase only I know")
    assert signed.headers["location"] == "/sign-in/second-factor"


def test_no_one_approves_their_own_request(db, factories, sign_in, coordinator):
    office = factories.Agency(name="City Attorney", kind=AgencyKind.prosecution)
    made = _create(coordinator, office, Role.prosecutor, "p@city.example")
    assert made.status_code == 201
    user = _account(db, "p@city.example")
    request = _request_of(db, user)
    # The coordinator may approve prosecutors, but not the one they asked for.
    assert "p@city.example" not in coordinator.client.get("/admin/approvals").text
    assert coordinator.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    assert fresh(db, user).status == UserStatus.pending

    # The office's own admin is the second person.
    office_admin = sign_in(user=factories.User(role=Role.admin, agency_id=office.id))
    assert office_admin.post(f"/admin/approvals/{request.id}/approve").status_code == 200
    assert fresh(db, user).status == UserStatus.active


def test_an_approver_of_another_agency_cannot_approve(db, factories, sign_in, evergreen_admin):
    evergreen_id = evergreen_admin.user.agency_id
    evergreen = rules.agency_of(db, evergreen_id)
    db.commit()
    _create(evergreen_admin, evergreen, Role.case_manager, "cm@evergreen-hrs.example")
    request = _request_of(db, _account(db, "cm@evergreen-hrs.example"))
    elsewhere = factories.Agency(kind=AgencyKind.case_management)
    other = sign_in(user=factories.User(role=Role.case_manager_supervisor, agency_id=elsewhere.id))
    assert other.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    officer_boss = sign_in(Role.sergeant)
    assert officer_boss.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    assert fresh(db, request).status == AccessRequestStatus.pending


@pytest.mark.parametrize("role", [Role.privacy_officer, Role.admin])
def test_the_coordinator_creates_no_privacy_officers_or_admins(
    db, factories, program_office, coordinator, role
):
    refused = _create(coordinator, program_office, role, "po@cascadia-lead.example")
    assert refused.status_code == 403
    assert db.exec(select(User).where(col(User.email) == "po@cascadia-lead.example")).all() == []
    db.commit()
    assert logged(db, SecurityEventTag.access_denied, action="create_user", role=role.value)
    # Nor hands the role out by a role change.
    colleague = factories.User(role=Role.coordinator, agency_id=program_office.id)
    changed = coordinator.post(f"/admin/users/{colleague.id}/role", data={"role": role.value})
    assert changed.status_code == 403
    assert fresh(db, colleague).role == Role.coordinator
    assert logged(db, SecurityEventTag.access_denied, action="change_role", role=role.value)


def test_a_privacy_officer_is_approved_by_another_privacy_officer(
    db, factories, sign_in, program_office
):
    office_admin = sign_in(user=factories.User(role=Role.admin, agency_id=program_office.id))
    _create(office_admin, program_office, Role.privacy_officer, "po2@cascadia-lead.example")
    request = _request_of(db, _account(db, "po2@cascadia-lead.example"))
    # The admin who asked is no approver of a privacy officer, nor is the coordinator.
    assert office_admin.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    coordinator = sign_in(user=factories.User(role=Role.coordinator, agency_id=program_office.id))
    assert coordinator.post(f"/admin/approvals/{request.id}/approve").status_code == 403
    privacy = sign_in(user=factories.User(role=Role.privacy_officer, agency_id=program_office.id))
    assert privacy.post(f"/admin/approvals/{request.id}/approve").status_code == 200


def test_an_enrolment_link_expires_after_72_hours(db, client, evergreen, evergreen_admin):
    path = link_in(_create(evergreen_admin, evergreen, Role.case_manager))
    hours = timedelta(hours=rules.ENROLMENT_LINK_HOURS)
    moved = utcnow() - hours - timedelta(seconds=1)
    db.exec(update(EnrolmentLink).values(created_at=moved, expires_at=moved + hours))
    db.commit()
    page = client.get(path)
    assert page.status_code == 404 and "expired" in page.text
    response = client.post(
        path,
        data={
            "new_password": "x" * 20,
            "new_password_again": "x" * 20,
            "code": "123456",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 404  # nothing set
    user = _account(db, "new@evergreen-hrs.example")
    assert user.mfa_enrolled_at is None


def test_a_new_link_replaces_the_old_and_none_is_issued_after_enrolment(
    db, client, evergreen, evergreen_admin
):
    first = link_in(_create(evergreen_admin, evergreen, Role.case_manager))
    user = _account(db, "new@evergreen-hrs.example")
    again = evergreen_admin.post(f"/admin/users/{user.id}/enrolment-link")
    assert again.status_code == 200
    second = link_in(again)
    assert client.get(first).status_code == 404
    enrol_through_link(client, second)
    # Once the person has enrolled, a link would let the manager set their password.
    refused = evergreen_admin.post(f"/admin/users/{user.id}/enrolment-link")
    assert refused.status_code == 400
    assert "/sign-in/welcome/" not in refused.text


def test_a_role_change_and_re_enabling_wait_for_approval_and_raise_new_access_flags(
    db, factories, sign_in, evergreen, evergreen_admin, evergreen_supervisor
):
    manager = factories.User(role=Role.case_manager, agency_id=evergreen.id)
    asked = evergreen_admin.post(
        f"/admin/users/{manager.id}/role", data={"role": "case_manager_supervisor"}
    )
    assert asked.status_code == 200 and "waits for a second person" in asked.text
    assert fresh(db, manager).role == Role.case_manager
    request = _request_of(db, manager)
    assert evergreen_supervisor.post(f"/admin/approvals/{request.id}/approve").status_code == 200
    assert fresh(db, manager).role == Role.case_manager_supervisor

    assert evergreen_admin.post(f"/admin/users/{manager.id}/disable").status_code == 200
    assert evergreen_admin.post(f"/admin/users/{manager.id}/enable").status_code == 200
    assert fresh(db, manager).status == UserStatus.pending
    request = _request_of(db, manager)
    # A supervisor approves a supervisor, but never access for themselves.
    other = sign_in(user=factories.User(role=Role.case_manager_supervisor, agency_id=evergreen.id))
    assert other.post(f"/admin/approvals/{request.id}/approve").status_code == 200
    assert fresh(db, manager).status == UserStatus.active

    compute_flags(db, Actor(request_id="test"), days=1)
    flags = db.exec(select(ReviewFlag).where(col(ReviewFlag.rule) == FlagRule.new_access)).all()
    db.commit()
    about_manager = [f for f in flags if f.subject_user_id == manager.id]
    assert len(about_manager) == 2  # the role change and the re-enabling, one flag each
    assert all("approved" in f.reason for f in about_manager)


def test_refusing_a_new_account_disables_it_and_kills_its_link(
    db, client, evergreen, evergreen_admin, evergreen_supervisor
):
    path = link_in(_create(evergreen_admin, evergreen, Role.case_manager))
    user = _account(db, "new@evergreen-hrs.example")
    request = _request_of(db, user)
    assert evergreen_supervisor.post(f"/admin/approvals/{request.id}/refuse").status_code == 200
    assert fresh(db, user).status == UserStatus.disabled
    assert client.get(path).status_code == 404
    assert logged(db, SecurityEventTag.access_refused, account_id=user.id)
    # Decided once: a second decision is refused.
    again = evergreen_supervisor.post(f"/admin/approvals/{request.id}/approve")
    assert again.status_code == 400
    assert fresh(db, user).status == UserStatus.disabled


def test_the_real_sign_in_after_enrolment_and_approval(db, client, evergreen, evergreen_admin):
    """Service level: the operator's approval at the command line works like a supervisor's."""
    path = link_in(_create(evergreen_admin, evergreen, Role.case_manager))
    enrol_through_link(client, path)
    user = _account(db, "new@evergreen-hrs.example")
    approvals.approve(
        db, Actor(role="operator"), approvals.OPERATOR_APPROVER, _request_of(db, user).id
    )
    client.cookies.clear()
    # The enrolment used the current time step's code: the sign-in takes the next one.
    response = sign_in_for_real(client, fresh(db, user), code_for(fresh(db, user), 1))
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("password", "again", "code", "problem"),
    [
        ("a long enough passphrase", "a long enough passphrase", "000000", "code is not right"),
        ("short", "short", None, "needs at least 12"),
        ("a long enough passphrase", "another long passphrase", None, "not the same"),
    ],
)
def test_a_refused_enrolment_changes_nothing_and_keeps_the_link(
    db, client, evergreen, evergreen_admin, password, again, code, problem
):
    path = link_in(_create(evergreen_admin, evergreen, Role.case_manager))
    user = _account(db, "new@evergreen-hrs.example")
    page = client.get(path)
    secret = first_group(r'aria-label="Setup key">([A-Z2-7 ]+)<', page.text)
    right = pyotp.TOTP(secret.replace(" ", "")).now()
    refused = client.post(
        path,
        data={
            "new_password": password,
            "new_password_again": again,
            "code": code or right,
            "csrf_token": csrf_of(page),
        },
    )
    assert refused.status_code == 400
    assert problem in refused.text.split('id="form-error">')[1]
    after = fresh(db, user)
    assert after.password_hash == user.password_hash and after.mfa_enrolled_at is None
    assert not logged(db, SecurityEventTag.enrolment_completed, account_id=user.id)
    # The link still works for the person's next try.
    assert enrol_through_link(client, path)[0].status_code == 200
