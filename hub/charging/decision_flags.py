"""Flags for review: a file decision that rests on care data is flagged for the client's
defender and the privacy officer, who review it with a note."""

from typing import Any

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.audit.models import LogEntry
from hub.charging.checks import ChargingError
from hub.charging.models import ChargingDecision, ChargingMatter, DecisionFlag
from hub.clients.models import ClientAssignment
from hub.db import ident, utcnow
from hub.notifications.services import assignment_holders, notify, users_with_role
from hub.permissions import authorize, permits
from hub.referrals.checks import security_event
from hub.vocabulary import (
    CARE_CATEGORIES,
    Action,
    AssignmentKind,
    DecisionOutcome,
    FlagStatus,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
)


def flag_if_care_data(
    db: Session, decision: ChargingDecision, matter: ChargingMatter, entries: list[LogEntry]
) -> DecisionFlag | None:
    """A file decision bound to care data, flagged for the client's defender and the privacy
    officer (notified); None for any other decision. Flushes in the decision's transaction."""
    if decision.outcome != DecisionOutcome.file:
        return None
    named = [e for e in entries if set(e.categories) & CARE_CATEGORIES]
    if not named:
        return None
    categories = sorted({c for e in named for c in e.categories if c in CARE_CATEGORIES})
    flag = DecisionFlag(
        decision_id=ident(decision.id),
        person_id=matter.person_id,
        reason="A file decision rests on disclosures of "
        + ", ".join(categories)
        + ": no participant worse off for what was shared for care coordination",
        categories=categories,
        log_seqs=[e.seq for e in named],
    )
    db.add(flag)
    db.flush()
    defenders = assignment_holders(db, matter.person_id, AssignmentKind.defense)
    reviewers = defenders + users_with_role(db, Role.privacy_officer)
    notify(db, reviewers, NotificationKind.decision_flagged, f"/flags/{flag.id}", f"flag:{flag.id}")
    return flag


def flags_for(
    db: Session, viewer: Viewer, *, status: FlagStatus | None = FlagStatus.open
) -> list[DecisionFlag]:
    """Flags a viewer reviews: every flag for a privacy officer; a defender's own clients'."""
    query = select(DecisionFlag)
    if status is not None:
        query = query.where(DecisionFlag.status == status)
    authorize(
        viewer,
        Action.flags_read,
        ChargingError(f"a {viewer.role.value} does not review decision flags"),
    )
    if not permits(viewer, Action.flags_review):  # a defender: their own clients' flags only
        query = query.where(col(DecisionFlag.person_id).in_(defender_clients(viewer.user_id)))
    return list(db.exec(query.order_by(col(DecisionFlag.id))))


def defender_clients(user_id: int) -> Any:
    """The defender's current clients as a subquery, for `person_id IN (...)`: the database
    filters by it, so a defender with thousands of clients sends no list of thousands of ids
    (an IN, not a join: a client assigned twice still counts once)."""
    return select(ClientAssignment.person_id).where(
        ClientAssignment.user_id == user_id,
        ClientAssignment.kind == AssignmentKind.defense,
        col(ClientAssignment.ended_at).is_(None),
    )


def review_flag(
    db: Session, privacy_officer: Viewer, flag_id: int, note: str, actor: Actor
) -> DecisionFlag:
    """The privacy officer's review of a flag, with a note. Commits."""
    authorize(
        privacy_officer,
        Action.flags_review,
        ChargingError("only a privacy officer reviews decision flags"),
    )
    flag = db.get(DecisionFlag, flag_id)
    if flag is None:
        raise ChargingError("no such flag")
    if flag.status == FlagStatus.reviewed:
        raise ChargingError("the flag is already reviewed")
    if not note.strip() or len(note) > 2000:
        raise ChargingError("write a review note of at most 2000 characters")
    flag.status = FlagStatus.reviewed
    flag.reviewed_by_id = privacy_officer.user_id
    flag.reviewed_at = utcnow()
    flag.review_note = note.strip()
    db.add(flag)
    security_event(
        db,
        actor,
        SecurityEventTag.flag_reviewed,
        flag.person_id,
        {"flag_id": flag.id},
        Purpose.oversight,
    )
    db.commit()
    return flag


def decision_flags(db: Session, decision_id: int) -> list[DecisionFlag]:
    """The flags raised on one decision (the deciding office sees that its decision was
    flagged, and whether it was reviewed)."""
    return list(
        db.exec(
            select(DecisionFlag)
            .where(DecisionFlag.decision_id == decision_id)
            .order_by(col(DecisionFlag.id))
        )
    )


def flag_for(db: Session, viewer: Viewer, flag_id: int) -> DecisionFlag:
    """One flag the viewer reviews (see flags_for), open or reviewed."""
    for flag in flags_for(db, viewer, status=None):
        if flag.id == flag_id:
            return flag
    raise ChargingError("no such flag")
