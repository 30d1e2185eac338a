"""Caseloads: a client assigned to a case manager of the serving agency; a case manager's
request to take a colleague's client waits for a supervisor of the same agency."""

from typing import NoReturn

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, append_refusal
from hub.clients.models import ClientAssignment
from hub.db import ident, utcnow
from hub.notifications.services import agency_users, notify
from hub.permissions import permits
from hub.referrals.checks import require, security_event
from hub.referrals.eligibility import (
    ReferralError,
)
from hub.referrals.models import (
    CaseloadRequest,
    Referral,
)
from hub.vocabulary import (
    Action,
    AssignmentKind,
    CaseloadRequestStatus,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
    UserStatus,
)


def open_caseload(db: Session, person_id: int) -> list[ClientAssignment]:
    return list(
        db.exec(
            select(ClientAssignment).where(
                ClientAssignment.person_id == person_id,
                ClientAssignment.kind == AssignmentKind.caseload,
                col(ClientAssignment.ended_at).is_(None),
            )
        )
    )


def assign(
    db: Session, person_id: int, user_id: int, actor: Actor, **detail: object
) -> ClientAssignment:
    now = utcnow()
    previous = []
    for current in open_caseload(db, person_id):
        current.ended_at = now
        db.add(current)
        previous.append(current.user_id)
    assignment = ClientAssignment(
        person_id=person_id, user_id=user_id, kind=AssignmentKind.caseload.value, started_at=now
    )
    db.add(assignment)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.caseload_assigned,
        person_id,
        {
            "assignment_id": assignment.id,
            "user_id": user_id,
            "previous_user_ids": previous,
            **detail,
        },
        Purpose.case_management,
    )
    # The case manager the client leaves is told; the note names no one (the link goes
    # through the policy layer).
    notify(
        db,
        previous,
        NotificationKind.caseload_changed,
        f"/clients/{person_id}",
        f"caseload_changed:{assignment.id}",
    )
    return assignment


def _refuse_caseload(db: Session, actor: Actor, action: str, message: str, **ids: int) -> NoReturn:
    """An insider path (taking clients without a second person): only the refusal is kept."""
    db.rollback()
    append_refusal(db, actor, {"action": action, **ids})
    raise ReferralError(message)


def _active_case_manager(db: Session, user_id: int, agency_id: int) -> None:
    target = db.get(User, user_id)
    if (
        target is None
        or target.agency_id != agency_id
        or not permits(target, Action.caseload_hold)
        or target.status != UserStatus.active
    ):
        raise ReferralError("assign to an active case manager of your agency")


def assign_to_caseload(
    db: Session, assigned_by: Viewer, person_id: int, case_manager_id: int, actor: Actor
) -> ClientAssignment:
    """A supervisor puts a client on a case manager of their agency's caseload (ending any
    other caseload assignment; the case manager it leaves is told). A case manager cannot: they
    request a client (request_caseload) and a supervisor decides. Commits."""
    require(assigned_by, Action.intake_manage, "assign caseloads")
    if not permits(assigned_by, Action.caseload_approve):
        _refuse_caseload(
            db,
            actor,
            "caseload:assign",
            "a case manager may not assign caseloads: request a client for your own caseload "
            "and a supervisor decides",
            person_id=person_id,
        )
    _active_case_manager(db, case_manager_id, assigned_by.agency_id)
    on_referral = db.exec(
        select(Referral.id).where(
            Referral.person_id == person_id,
            Referral.case_management_agency_id == assigned_by.agency_id,
        )
    ).first()
    if on_referral is None:
        raise ReferralError("no referral of this person to your agency")
    if case_manager_id in {a.user_id for a in open_caseload(db, person_id)}:
        raise ReferralError("the client is already on this caseload")
    assignment = assign(db, person_id, case_manager_id, actor)
    db.commit()
    return assignment


def request_caseload(
    db: Session, case_manager: Viewer, referral_id: int, actor: Actor
) -> CaseloadRequest:
    """A case manager asks to take the client of a referral to their agency onto their own
    caseload. Nothing changes (and nothing more is disclosed) until a supervisor approves it;
    the agency's supervisors are told. Commits."""
    require(case_manager, Action.caseload_hold, "request a client")
    referral = referral_for_intake(db, case_manager, referral_id)
    holders = [a.user_id for a in open_caseload(db, referral.person_id)]
    if case_manager.user_id in holders:
        raise ReferralError("the client is already on your caseload")
    pending = db.exec(
        select(CaseloadRequest.id).where(
            CaseloadRequest.person_id == referral.person_id,
            CaseloadRequest.requested_by_id == case_manager.user_id,
            CaseloadRequest.status == CaseloadRequestStatus.pending,
        )
    ).first()
    if pending is not None:
        raise ReferralError("you have already requested this client; a supervisor decides")
    request = CaseloadRequest(
        person_id=referral.person_id,
        referral_id=ident(referral.id),
        agency_id=case_manager.agency_id,
        requested_by_id=case_manager.user_id,
        previous_case_manager_id=holders[0] if holders else None,
    )
    db.add(request)
    db.flush()
    security_event(
        db,
        actor,
        SecurityEventTag.caseload_requested,
        referral.person_id,
        {"caseload_request_id": request.id, "referral_id": referral.id, "held_by": holders},
        Purpose.case_management,
    )
    notify(
        db,
        agency_users(db, case_manager.agency_id, [Role.case_manager_supervisor]),
        NotificationKind.caseload_requested,
        "/caseload-requests",
        f"caseload_requested:{request.id}",
    )
    db.commit()
    return request


def decide_caseload_request(
    db: Session, supervisor: Viewer, request_id: int, approve: bool, actor: Actor
) -> CaseloadRequest:
    """A supervisor of the requester's agency approves a caseload request (the client moves;
    the case manager it leaves is told) or refuses it. Commits."""
    require(supervisor, Action.caseload_approve, "decide caseload requests")
    request = db.get(CaseloadRequest, request_id)
    if request is None or request.agency_id != supervisor.agency_id:
        _refuse_caseload(
            db,
            actor,
            "caseload:decide",
            "no such caseload request for your agency",
            caseload_request_id=request_id,
        )
    if request.status != CaseloadRequestStatus.pending:
        raise ReferralError("this caseload request is already decided")
    if approve:
        _active_case_manager(db, request.requested_by_id, supervisor.agency_id)
    request.status = CaseloadRequestStatus.approved if approve else CaseloadRequestStatus.refused
    request.decided_by_id = supervisor.user_id
    request.decided_at = utcnow()
    db.add(request)
    if approve:
        assign(
            db, request.person_id, request.requested_by_id, actor, caseload_request_id=request.id
        )
    security_event(
        db,
        actor,
        SecurityEventTag.caseload_request_approved
        if approve
        else SecurityEventTag.caseload_request_refused,
        request.person_id,
        {"caseload_request_id": request.id, "requested_by_id": request.requested_by_id},
        Purpose.case_management,
    )
    db.commit()
    return request


def pending_caseload_requests(db: Session, supervisor: Viewer) -> list[CaseloadRequest]:
    """The supervisor's agency's caseload requests awaiting a decision, oldest first."""
    require(supervisor, Action.caseload_approve, "decide caseload requests")
    return list(
        db.exec(
            select(CaseloadRequest)
            .where(
                CaseloadRequest.agency_id == supervisor.agency_id,
                CaseloadRequest.status == CaseloadRequestStatus.pending,
            )
            .order_by(col(CaseloadRequest.id))
        )
    )


def referral_for_intake(db: Session, case_manager: Viewer, referral_id: int) -> Referral:
    require(case_manager, Action.intake_manage, "record intake")
    referral = db.get(Referral, referral_id)
    # Another agency's referral answers as none: a case manager sees their own agency's.
    if referral is None or referral.case_management_agency_id != case_manager.agency_id:
        raise ReferralError("no such referral for your agency")
    return referral
