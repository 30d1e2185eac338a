"""Account administration within a manager's scope: users and agencies, role changes,
disabling, lockout release, MFA reset; widening someone's access opens a request that a second
person decides (hub.accounts.approvals)."""

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from hub.accounts.enrolment import issue_link
from hub.accounts.models import (
    AccessRequest,
    Agency,
    EnrolmentLink,
    RecoveryCode,
    User,
)
from hub.accounts.passwords import (
    hash_password,
)
from hub.accounts.rules import (
    EMAIL,
    AccountError,
    NotPermitted,
    agency_of,
    normalise_email,
    record,
    user_by_email,
)
from hub.accounts.sessions import (
    Viewer,
)
from hub.accounts.signing_in import disable_for, end_access, set_status, withdraw_requests
from hub.audit.log import Actor
from hub.db import ident, utcnow
from hub.permissions import manages_own_agency_only, may_give, role_fits, speaks_for_every_agency
from hub.vocabulary import (
    ROLES_BY_AGENCY_KIND,
    AccessRequestKind,
    AccessRequestStatus,
    AgencyKind,
    Role,
    SecurityEventTag,
    UserStatus,
)


@dataclass(frozen=True)
class Scope:
    """Whose accounts a manager may manage: an agency admin their own agency's, the program
    office's coordinator every agency's, the server operator (command line) everyone's.
    `manager_role`: the manager's role, which decides the roles they may hand out
    (hub.permissions.may_give); None for the operator."""

    all_agencies: bool
    agency_id: int | None = None
    manager_id: int | None = None
    manager_role: Role | None = None

    @classmethod
    def of(cls, viewer: Viewer) -> "Scope":
        if speaks_for_every_agency(viewer.role, viewer.agency_kind):
            return cls(all_agencies=True, manager_id=viewer.user_id, manager_role=viewer.role)
        if manages_own_agency_only(viewer):
            return cls(
                all_agencies=False,
                agency_id=viewer.agency_id,
                manager_id=viewer.user_id,
                manager_role=viewer.role,
            )
        return cls(all_agencies=False, manager_id=viewer.user_id, manager_role=viewer.role)

    def covers(self, agency_id: int | None) -> bool:
        return self.all_agencies or (self.agency_id is not None and self.agency_id == agency_id)

    def grants(self, role: Role) -> bool:
        return may_give(self.manager_role, role)


OPERATOR = Scope(all_agencies=True)


def denied(db: Session, actor: Actor, action: str, **detail: Any) -> NotPermitted:
    record(db, actor, SecurityEventTag.access_denied, "denied", action=action, **detail)
    db.commit()
    return NotPermitted("That account or agency is not yours to manage.")


def managed_user(db: Session, actor: Actor, scope: Scope, user_id: int, action: str) -> User:
    """The account, if the scope covers its agency; a refusal is logged."""
    user = db.get(User, user_id)
    if user is None:
        raise AccountError("There is no such account.")
    if not scope.covers(user.agency_id):
        raise denied(db, actor, action, account_id=user_id)
    return user


def _not_self(scope: Scope, user: User) -> None:
    # Separation of duties: another manager changes a manager's own role, status or factor.
    if scope.manager_id is not None and scope.manager_id == user.id:
        raise AccountError("Ask another administrator to change your own account.")


def _may_grant(db: Session, actor: Actor, scope: Scope, role: Role, action: str) -> None:
    if not scope.grants(role):
        record(db, actor, SecurityEventTag.access_denied, "denied", action=action, role=role.value)
        db.commit()
        raise NotPermitted(
            f"The program office's coordinator does not give the role {role.value}; "
            "an administrator of the agency does."
        )


def check_role_fits(agency: Agency, role: Role) -> None:
    if not role_fits(agency.kind, role):
        allowed = ", ".join(sorted(r.value for r in ROLES_BY_AGENCY_KIND[agency.kind]))
        raise AccountError(
            f"A {agency.kind.value.replace('_', ' ')} agency's users can be: {allowed}."
        )


def list_users(db: Session, scope: Scope) -> list[tuple[User, Agency]]:
    query = select(User, Agency).join(Agency, col(Agency.id) == User.agency_id)
    if not scope.all_agencies:
        query = query.where(col(User.agency_id) == scope.agency_id)
    return list(db.exec(query.order_by(col(Agency.name), col(User.display_name))).all())


def list_agencies(db: Session, scope: Scope) -> list[Agency]:
    query = select(Agency)
    if not scope.all_agencies:
        query = query.where(col(Agency.id) == scope.agency_id)
    return list(db.exec(query.order_by(col(Agency.name))).all())


def _open_request(
    db: Session, actor: Actor, user: User, kind: AccessRequestKind, role: Role
) -> AccessRequest:
    """Asks a second person to approve new access for the account (CJIS AC-2, AC-5); an older
    pending request of the same account is withdrawn."""
    withdraw_requests(db, user)
    request = AccessRequest(
        user_id=ident(user.id),
        kind=kind,
        role=role,
        role_before=user.role if kind == AccessRequestKind.role_change else None,
        requested_by_id=actor.user_id,
    )
    db.add(request)
    db.flush()
    record(
        db,
        actor,
        SecurityEventTag.access_requested,
        account_id=user.id,
        request_id=request.id,
        kind=kind.value,
        role=role.value,
    )
    return request


def pending_request(db: Session, user_id: int) -> AccessRequest | None:
    return db.exec(
        select(AccessRequest).where(
            col(AccessRequest.user_id) == user_id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
    ).first()


def issue_enrolment_link(db: Session, actor: Actor, scope: Scope, user_id: int) -> str:
    """A fresh link for an account whose person has not enrolled yet (the first one expired or
    was lost). Never for an account that has enrolled: that would hand its manager a way to
    set its password."""
    user = managed_user(db, actor, scope, user_id, "issue_enrolment_link")
    _not_self(scope, user)
    links = db.exec(select(EnrolmentLink).where(col(EnrolmentLink.user_id) == user.id)).all()
    if not links or any(link.used_at is not None for link in links):
        raise AccountError("This person has set their password already; no link is needed.")
    if user.status == UserStatus.disabled:
        raise AccountError("The account is disabled.")
    token = issue_link(db, actor, user)
    db.commit()
    return token


@dataclass(frozen=True)
class NewAccount:
    user: User
    enrolment_token: str  # the link's secret: shown once, to hand to the person


def create_user(
    db: Session,
    actor: Actor,
    scope: Scope,
    *,
    email: str,
    display_name: str,
    role: Role,
    agency_id: int,
) -> NewAccount:
    """Creates an account that waits for a second person's approval and has no password yet.
    Returns it with a one-time enrolment link through which the person sets their password
    and second factor: the manager never learns either (CJIS AC-5, IA-5)."""
    agency = agency_of(db, agency_id)
    if not scope.covers(agency.id):
        raise denied(db, actor, "create_user", agency_id=agency_id)
    _may_grant(db, actor, scope, role, "create_user")
    email = normalise_email(email)
    display_name = display_name.strip()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError("Enter a valid e-mail address.")
    if not display_name or len(display_name) > 200:
        raise AccountError("Enter a name of 1 to 200 characters.")
    check_role_fits(agency, role)
    if user_by_email(db, email) is not None:
        raise AccountError("An account with that e-mail address exists already.")
    user = User(
        agency_id=ident(agency.id),
        email=email,
        display_name=display_name,
        role=role,
        status=UserStatus.pending,
        status_reason="awaiting_approval",
        status_changed_at=utcnow(),
        # A password nobody knows, until the person sets theirs through the link.
        password_hash=hash_password(secrets.token_urlsafe(32)),
    )
    db.add(user)
    db.flush()
    request = _open_request(db, actor, user, AccessRequestKind.new_account, role)
    record(
        db,
        actor,
        SecurityEventTag.user_created,
        account_id=user.id,
        role=role.value,
        agency_id=agency.id,
        request_id=request.id,
    )
    token = issue_link(db, actor, user)
    db.commit()
    return NewAccount(user=user, enrolment_token=token)


def change_role(db: Session, actor: Actor, scope: Scope, user_id: int, role: Role) -> User:
    """Asks for another role that fits the account's agency; it takes effect when a second
    person approves it (hub.accounts.approvals)."""
    user = managed_user(db, actor, scope, user_id, "change_role")
    _not_self(scope, user)
    _may_grant(db, actor, scope, role, "change_role")
    check_role_fits(agency_of(db, user.agency_id), role)
    if user.role == role:
        raise AccountError("The account has that role already.")
    if user.status == UserStatus.disabled:
        raise AccountError("The account is disabled; enable it first.")
    if user.status == UserStatus.pending:
        raise AccountError(
            "The account waits for a second person's approval; change its role once it is "
            "decided (or have it refused and create the account again)."
        )
    _open_request(db, actor, user, AccessRequestKind.role_change, role)
    db.commit()
    return user


def disable_user(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Disables an account, ends all its sessions and revokes its API tokens."""
    user = managed_user(db, actor, scope, user_id, "disable_user")
    _not_self(scope, user)
    if user.status != UserStatus.disabled:
        disable_for(db, actor, user, SecurityEventTag.user_disabled, "disabled_by_manager")
    db.commit()
    return user


def enable_user(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Asks for a disabled account to be active again; it waits for a second person's approval.
    Its API tokens stay revoked."""
    user = managed_user(db, actor, scope, user_id, "enable_user")
    _not_self(scope, user)
    _may_grant(db, actor, scope, user.role, "enable_user")
    if user.status != UserStatus.disabled:
        raise AccountError("That account is not disabled.")
    set_status(db, user, UserStatus.pending, "awaiting_approval")
    _open_request(db, actor, user, AccessRequestKind.re_enable, user.role)
    db.commit()
    return user


def release_lockout(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """CJIS AC-7: an administrator releases a locked account (its API tokens stay revoked)."""
    user = managed_user(db, actor, scope, user_id, "release_lockout")
    if user.status != UserStatus.locked:
        raise AccountError("That account is not locked.")
    set_status(db, user, UserStatus.active, "released")
    record(db, actor, SecurityEventTag.account_unlocked, account_id=user.id)
    db.commit()
    return user


def reset_mfa(db: Session, actor: Actor, scope: Scope, user_id: int) -> User:
    """Removes the second factor and recovery codes (the person enrols again at the next
    sign-in), ends every session and revokes every API token."""
    user = managed_user(db, actor, scope, user_id, "reset_mfa")
    _not_self(scope, user)
    user.totp_secret_sealed = None
    user.totp_last_counter = None
    user.mfa_enrolled_at = None
    db.add(user)
    db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    ended = end_access(db, user, "mfa_reset")
    record(db, actor, SecurityEventTag.mfa_reset, account_id=user.id, **ended)
    db.commit()
    return user


def end_user_sessions(db: Session, actor: Actor, scope: Scope, user_id: int) -> int:
    """Ends every session of an account and revokes its API tokens (ASVS V7.4.5:
    administrators can end sessions; a token is a session by other means)."""
    user = managed_user(db, actor, scope, user_id, "end_sessions")
    ended = end_access(db, user, "ended_by_admin")
    record(db, actor, SecurityEventTag.session_ended_by_admin, account_id=user.id, **ended)
    db.commit()
    return ended["sessions_ended"]


def _agency_fields(
    db: Session, name: str, jurisdiction: str | None, agency_id: int | None
) -> tuple[str, str | None]:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("Enter an agency name of 1 to 200 characters.")
    jurisdiction = (jurisdiction or "").strip() or None
    if jurisdiction and len(jurisdiction) > 100:
        raise AccountError("The jurisdiction may have at most 100 characters.")
    taken = db.exec(
        select(Agency).where(func.lower(Agency.name) == name.lower(), col(Agency.id) != agency_id)
    ).first()
    if taken is not None:
        raise AccountError("An agency with that name exists already.")
    return name, jurisdiction


def create_agency(
    db: Session,
    actor: Actor,
    scope: Scope,
    *,
    name: str,
    kind: AgencyKind,
    jurisdiction: str | None = None,
) -> Agency:
    """Adds an agency; only the program office (or the operator) adds agencies."""
    if not scope.all_agencies:
        raise denied(db, actor, "create_agency")
    name, jurisdiction = _agency_fields(db, name, jurisdiction, None)
    agency = Agency(name=name, kind=kind, jurisdiction=jurisdiction)
    db.add(agency)
    db.flush()
    record(db, actor, SecurityEventTag.agency_created, agency_id=agency.id, kind=kind.value)
    db.commit()
    return agency


def update_agency(
    db: Session, actor: Actor, scope: Scope, agency_id: int, *, name: str, jurisdiction: str | None
) -> Agency:
    """Renames an agency or changes its jurisdiction; its kind stays, as its roles rest on it."""
    agency = agency_of(db, agency_id)
    if not scope.covers(agency.id):
        raise denied(db, actor, "update_agency", agency_id=agency_id)
    agency.name, agency.jurisdiction = _agency_fields(db, name, jurisdiction, agency.id)
    db.add(agency)
    record(db, actor, SecurityEventTag.agency_changed, agency_id=agency.id)
    db.commit()
    return agency


def set_part2_program(
    db: Session, actor: Actor, scope: Scope, agency_id: int, *, part2_program: bool
) -> Agency:
    """Marks an agency as a 42 CFR Part 2 program (2.11), or unmarks it: whatever its staff
    record about a client is then Part 2 data, in any field. Only the program office (or the
    operator) decides it, for every agency alike; logged as a security event. Commits."""
    agency = agency_of(db, agency_id)
    if not scope.all_agencies:
        raise denied(db, actor, "set_part2_program", agency_id=agency_id)
    if agency.part2_program == part2_program:
        state = "already" if part2_program else "not"
        raise AccountError(f"{agency.name} is {state} a Part 2 program.")
    agency.part2_program = part2_program
    db.add(agency)
    record(
        db,
        actor,
        SecurityEventTag.agency_part2_program_changed,
        agency_id=agency.id,
        part2_program=part2_program,
    )
    db.commit()
    return agency
