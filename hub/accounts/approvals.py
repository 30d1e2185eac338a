"""New access takes a second person (CJIS AC-2 account approval, AC-5 separation of duties).

A manager's new account, role change or re-enabling opens an `AccessRequest`
(hub.accounts.administration); nothing is granted until someone else approves it here. Who
may approve is `hub.permissions.APPROVERS`: the supervisor role of the account's own agency,
or, for agencies without one, its admin or the program office's coordinator; never the person
who asked, never the account itself. The server's operator may decide any request at the
command line (`hub users approve`): the first supervisor of a new agency has nobody else to
approve them.
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select, update

from hub.accounts.administration import check_role_fits, denied
from hub.accounts.models import AccessRequest, Agency, EnrolmentLink, User
from hub.accounts.rules import AccountError, agency_of, record
from hub.accounts.sessions import Viewer
from hub.accounts.signing_in import end_access, set_status
from hub.audit.log import Actor
from hub.db import utcnow
from hub.permissions import approves, speaks_for_every_agency
from hub.vocabulary import (
    AccessRequestKind,
    AccessRequestStatus,
    AgencyKind,
    Role,
    SecurityEventTag,
    UserStatus,
)


@dataclass(frozen=True)
class Approver:
    """Who decides: a signed-in person, or the operator at the command line (all None)."""

    user_id: int | None = None
    role: Role | None = None
    agency_id: int | None = None
    agency_kind: AgencyKind | None = None

    @classmethod
    def of(cls, viewer: Viewer) -> "Approver":
        return cls(viewer.user_id, viewer.role, viewer.agency_id, viewer.agency_kind)


OPERATOR_APPROVER = Approver()


def may_decide(approver: Approver, request: AccessRequest, user: User) -> bool:
    """Whether this approver may approve or refuse the request."""
    if approver.user_id is None:
        return True
    if approver.user_id in (request.requested_by_id, user.id):
        return False  # AC-5: no one approves their own request, nor access for themselves
    if approver.role is None or not approves(approver.role, request.role):
        return False
    if speaks_for_every_agency(approver.role, approver.agency_kind):
        return True
    return approver.agency_id == user.agency_id


def requests_for(db: Session, approver: Approver) -> list[tuple[AccessRequest, User, Agency]]:
    """The pending requests this approver may decide, oldest first."""
    rows = db.exec(
        select(AccessRequest, User, Agency)
        .join(User, col(User.id) == AccessRequest.user_id)
        .join(Agency, col(Agency.id) == User.agency_id)
        .where(col(AccessRequest.status) == AccessRequestStatus.pending)
        .order_by(col(AccessRequest.requested_at), col(AccessRequest.id))
    ).all()
    return [(r, u, a) for r, u, a in rows if may_decide(approver, r, u)]


def _pending(
    db: Session, actor: Actor, approver: Approver, request_id: int, action: str
) -> tuple[AccessRequest, User]:
    request = db.get(AccessRequest, request_id)
    if request is None or request.status != AccessRequestStatus.pending:
        raise AccountError("There is no such request waiting for a decision.")
    user = db.get(User, request.user_id, populate_existing=True)
    assert user is not None
    if not may_decide(approver, request, user):
        raise denied(db, actor, action, request_id=request_id, account_id=user.id)
    # Claimed with a conditional update, so that two approvers at once decide it only once.
    claimed = db.exec(
        update(AccessRequest)
        .where(
            col(AccessRequest.id) == request_id,
            col(AccessRequest.status) == AccessRequestStatus.pending,
        )
        .values(decided_by_id=approver.user_id, decided_at=utcnow())
    )
    if claimed.rowcount != 1:
        db.rollback()
        raise AccountError("There is no such request waiting for a decision.")
    db.refresh(request)
    return request, user


def _entry(request: AccessRequest, user: User) -> dict[str, Any]:
    return {
        "account_id": user.id,
        "request_id": request.id,
        "kind": request.kind.value,
        "role": request.role.value,
        "requested_by_id": request.requested_by_id,
    }


def approve(db: Session, actor: Actor, approver: Approver, request_id: int) -> AccessRequest:
    """Grants what the request asked for, logs it and commits."""
    request, user = _pending(db, actor, approver, request_id, "approve_access")
    if request.kind == AccessRequestKind.role_change:
        check_role_fits(agency_of(db, user.agency_id), request.role)
        before, user.role = user.role, request.role
        db.add(user)
        # The new role takes effect at once: sessions and tokens of the old one end.
        ended = end_access(db, user, "role_changed")
        record(
            db,
            actor,
            SecurityEventTag.user_changed,
            account_id=user.id,
            request_id=request.id,
            role_before=before.value,
            role_after=request.role.value,
            **ended,
        )
    elif user.status == UserStatus.pending:
        set_status(db, user, UserStatus.active, "approved")
        if request.kind == AccessRequestKind.re_enable:
            record(
                db,
                actor,
                SecurityEventTag.user_changed,
                account_id=user.id,
                request_id=request.id,
                status_after=UserStatus.active.value,
            )
    else:
        db.rollback()
        raise AccountError("The account is no longer waiting for approval.")
    request.status = AccessRequestStatus.approved
    db.add(request)
    record(db, actor, SecurityEventTag.access_approved, **_entry(request, user))
    db.commit()
    return request


def refuse(db: Session, actor: Actor, approver: Approver, request_id: int) -> AccessRequest:
    """Refuses the request: a new or re-enabled account stays disabled, a role stays as it
    was. Logged and committed."""
    request, user = _pending(db, actor, approver, request_id, "refuse_access")
    if request.kind != AccessRequestKind.role_change and user.status == UserStatus.pending:
        set_status(db, user, UserStatus.disabled, "access_refused")
        db.exec(
            update(EnrolmentLink)
            .where(col(EnrolmentLink.user_id) == user.id, col(EnrolmentLink.used_at).is_(None))
            .values(expires_at=utcnow())
        )
    request.status = AccessRequestStatus.refused
    db.add(request)
    record(db, actor, SecurityEventTag.access_refused, **_entry(request, user))
    db.commit()
    return request
