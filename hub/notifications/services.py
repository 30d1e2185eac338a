"""Notifications: a short fixed text per kind and a link by id, never personal data (the page
behind the link discloses through the policy layer). Each event notifies a user once: the
dedupe key makes every producer, the deadline sweep included, safe to run again."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from hub.accounts.models import User
from hub.clients.models import ClientAssignment
from hub.db import utcnow
from hub.mail.services import mail_notification
from hub.notifications.models import Notification
from hub.referrals.models import Referral
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import AssignmentKind, DeadlineStatus, NotificationKind, Role, UserStatus

TEXTS: dict[NotificationKind, str] = {
    NotificationKind.deadline_near: "A referral's intake deadline is near",
    NotificationKind.deadline_missed: "A referral's intake deadline has passed",
    NotificationKind.new_referral: "Your agency has a new referral",
    NotificationKind.decision_on_referral: "A referral you made has a new charging decision",
    NotificationKind.decision_flagged: "A charging decision was flagged for review",
    NotificationKind.breach_signal: "A possible breach was detected: see the privacy console",
    NotificationKind.agenda_published: "A work group agenda you are invited to was published",
    NotificationKind.caseload_requested: "A case manager asks for a client: approve or refuse",
    NotificationKind.caseload_changed: "A client of yours moved to another case manager",
    NotificationKind.court_order_awaiting: "A court order awaits a second privacy officer",
    NotificationKind.review_flags_new: "New review flags await a privacy officer",
    NotificationKind.new_arrest: "Your office has a new arrest of a participant",
    NotificationKind.arrest_to_reconcile: "An arrest report awaits reconciliation",
    NotificationKind.court_date_near: "A court date on your calendar is near",
    NotificationKind.bridge_displacement: "A bridge service was paid after the client's turn came",
    NotificationKind.referral_withdrawn: "An officer withdrew a referral made in error",
    NotificationKind.referral_corrected: "An officer corrected a referral to your agency",
    NotificationKind.override_approved: "Override approved on a referral you made",
}

CASE_MANAGEMENT_ROLES = frozenset({Role.case_manager, Role.case_manager_supervisor})


class NotificationError(ValueError):
    """A notification request breaks a rule; nothing was changed."""


def agency_users(db: Session, agency_id: int, roles: Iterable[Role]) -> list[int]:
    """Ids of the active users of an agency who hold one of these roles."""
    query = select(col(User.id)).where(
        User.agency_id == agency_id,
        col(User.role).in_(list(roles)),
        User.status == UserStatus.active,
    )
    return [user_id for user_id in db.exec(query) if user_id is not None]


def users_with_role(db: Session, role: Role) -> list[int]:
    query = select(col(User.id)).where(User.role == role, User.status == UserStatus.active)
    return [user_id for user_id in db.exec(query) if user_id is not None]


def assignment_holders(
    db: Session, person_id: int, kind: AssignmentKind = AssignmentKind.caseload
) -> list[int]:
    """The users who hold an open assignment of this kind to the person: the case manager whose
    caseload they are on, or their defenders."""
    return list(
        db.exec(
            select(ClientAssignment.user_id).where(
                ClientAssignment.person_id == person_id,
                ClientAssignment.kind == kind,
                col(ClientAssignment.ended_at).is_(None),
            )
        )
    )


def notify(
    db: Session,
    user_ids: Iterable[int | None],
    kind: NotificationKind,
    link: str | None,
    dedupe_key: str,
) -> int:
    """Notifies each user once for this dedupe key (and by e-mail, as each user prefers);
    returns how many notes were new. Flushes in the caller's transaction; the caller commits."""
    created = 0
    for user_id in sorted({u for u in user_ids if u is not None}):
        exists = db.exec(
            select(Notification.id).where(
                Notification.user_id == user_id, Notification.dedupe_key == dedupe_key
            )
        ).first()
        if exists is not None:
            continue
        try:
            # A concurrent producer may have written the same note: the unique key decides.
            with db.begin_nested():
                db.add(
                    Notification(
                        user_id=user_id,
                        kind=kind,
                        text=TEXTS[kind],
                        link=link,
                        dedupe_key=dedupe_key,
                    )
                )
        except IntegrityError:
            continue
        user = db.get(User, user_id)
        if user is not None:
            # In the same transaction: the mail exists exactly when the notification does.
            mail_notification(db, user)
        created += 1
    return created


def notifications_for(
    db: Session, user_id: int, *, unread_only: bool = False
) -> list[Notification]:
    """A user's notifications, newest first (by time, then id)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    newest_first = (col(Notification.created_at).desc(), col(Notification.id).desc())
    return list(db.exec(query.order_by(*newest_first)))


@dataclass(frozen=True)
class NotificationLine:
    """Identical notifications (same kind, same subject) as one line of the list: the newest
    one's text, link and time, how many there are and how many are unread."""

    id: int
    kind: NotificationKind
    text: str
    link: str | None
    newest_at: datetime
    count: int
    unread: int


def _lines_of(user_id: int) -> Any:
    """One row per line (kind and link) of a user's notifications, in SQL."""
    return (
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
            Notification.kind,
            Notification.link,
            func.max(Notification.created_at).label("newest_at"),
            func.max(Notification.id).label("newest_id"),
            func.count().label("count"),
            func.count(col(Notification.id)).filter(col(Notification.read_at).is_(None)),
        )
        .where(Notification.user_id == user_id)
        .group_by(col(Notification.kind), col(Notification.link))
    )


def notification_line_count(db: Session, user_id: int) -> int:
    """How many lines notification_lines lists in all."""
    return db.exec(select(func.count()).select_from(_lines_of(user_id).subquery())).one()


def notification_lines(
    db: Session, user_id: int, *, offset: int = 0, limit: int | None = None
) -> list[NotificationLine]:
    """A user's notifications as the list shows them: identical ones (same kind, same link)
    as one line, newest first; `limit` of them from `offset`, grouped and cut by the database
    (an officer's notes run to thousands at scale)."""
    query = _lines_of(user_id).order_by(
        func.max(Notification.created_at).desc(), func.max(Notification.id).desc()
    )
    rows = db.exec(query.offset(offset).limit(limit)).all()
    return [
        NotificationLine(
            id=newest_id,
            kind=NotificationKind(kind),
            text=TEXTS[NotificationKind(kind)],
            link=link,
            newest_at=newest_at,
            count=count,
            unread=unread,
        )
        for kind, link, newest_at, newest_id, count, unread in rows
    ]


@dataclass(frozen=True)
class Subject:
    """What a notification is about, from its link: the record by kind and number ("Referral
    12"). No person: the list shows no personal data; the linked page discloses, and logs."""

    label: str


_SUBJECT_LINKS = re.compile(
    r"^/(referrals|charging/matters|clients|flags|work-group/meetings)/(\d+)$"
)
_SUBJECT_WORDS = {
    "referrals": "Referral",
    "charging/matters": "Arrest",
    "clients": "Client record",
    "flags": "Flag",
    "work-group/meetings": "Work group meeting",
}


def subjects(links: Iterable[str | None]) -> dict[str, Subject]:
    """The record each link names, if it names one."""
    return {
        link: Subject(f"{_SUBJECT_WORDS[m.group(1)]} {m.group(2)}")
        for link in links
        if link and (m := _SUBJECT_LINKS.match(link))
    }


def unread_count(db: Session, user_id: int) -> int:
    """The badge's number, counted by the database (it is polled every minute)."""
    query = select(func.count()).select_from(Notification).where(*_unread_of(user_id))
    return db.exec(query).one()


def _unread_of(user_id: int) -> tuple[ColumnElement[bool], ...]:
    return (col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))


def mark_read(db: Session, user_id: int, notification_id: int) -> Notification:
    """Marks one of the user's own notifications read, with the identical ones its line on the
    list stands for (again is a no-op), and commits."""
    note = db.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        # The same answer for another user's note as for none: ids reveal nothing.
        raise NotificationError("no such notification")
    link = col(Notification.link)
    same_subject = link.is_(None) if note.link is None else link == note.link
    db.exec(
        update(Notification)
        .where(*_unread_of(user_id), col(Notification.kind) == note.kind, same_subject)
        .values(read_at=utcnow())
    )
    db.commit()
    db.refresh(note)
    return note


def mark_all_read(db: Session, user_id: int) -> int:
    """Marks every unread notification of this user read, no one else's; returns how many and
    commits."""
    result = db.exec(update(Notification).where(*_unread_of(user_id)).values(read_at=utcnow()))
    db.commit()
    return result.rowcount


def sweep_deadlines(db: Session, today: date, *, rules: SiteRules | None = None) -> int:
    """Notifies the case managers of every referral whose intake is not complete and whose
    deadline is near or missed; idempotent (run it daily, or as often as you like). Returns the
    number of new notifications and commits."""
    from hub.referrals.intake_clock import deadline_status

    rules = rules or current_rules(db)
    open_referrals = db.exec(
        select(Referral).where(
            col(Referral.screening_done_at).is_(None) | col(Referral.intake_done_at).is_(None)
        )
    )
    created = 0
    for referral in open_referrals:
        status = deadline_status(referral, today, tz=rules.tz)
        if status not in (DeadlineStatus.near, DeadlineStatus.missed):
            continue
        kind = (
            NotificationKind.deadline_near
            if status == DeadlineStatus.near
            else NotificationKind.deadline_missed
        )
        recipients = assignment_holders(db, referral.person_id) or agency_users(
            db, referral.case_management_agency_id, CASE_MANAGEMENT_ROLES
        )
        created += notify(
            db,
            recipients,
            kind,
            f"/referrals/{referral.id}",
            f"{kind.value}:referral:{referral.id}",
        )
    db.commit()
    return created
