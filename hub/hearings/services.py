"""Court dates on a charging matter (issue 15, item 2): set, moved or cancelled by the
matter's office or the client's defender, each step kept as history; the calendars of an
office and of a defender; reminders before each date.

Who may act is a relationship, not a role: a prosecutor of the office the matter went to, or a
defender holding an open defense assignment to the client. Anyone else is answered as if the
matter did not exist. Every change is a security event in its own transaction.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlmodel import Session, col, or_, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.models import ChargingMatter
from hub.clients.models import ClientAssignment
from hub.db import ident, utcnow
from hub.hearings.models import CourtHearing, CourtHearingChange
from hub.notifications.services import agency_users, assignment_holders, notify
from hub.permissions import allowed
from hub.referrals.checks import security_event
from hub.vocabulary import (
    Action,
    AssignmentKind,
    HearingChange,
    HearingKind,
    NotificationKind,
    Purpose,
    Role,
    SecurityEventTag,
)

# A court date is set for the coming two years at most, never in the past.
HORIZON = timedelta(days=2 * 365)


class HearingRefused(ValueError):
    """A court date breaks a rule: every problem at once, per field. Nothing was changed."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems))


class HearingNotFound(LookupError):
    """No such matter or court date for this viewer (another office's, another's client)."""


@dataclass(frozen=True)
class HearingDetails:
    kind: HearingKind
    starts_at: datetime
    courtroom: str


@dataclass(frozen=True)
class HearingItem:
    """A court date as a calendar or a matter shows it: the matter's own legal fields only."""

    hearing_id: int
    matter_id: int
    person_id: int
    offense_tracking_number: str
    kind: HearingKind
    starts_at: datetime
    starts_local: str
    courtroom: str
    cancelled: bool


@dataclass(frozen=True)
class HistoryItem:
    change: HearingChange
    kind: HearingKind
    starts_local: str
    courtroom: str
    changed_at: datetime


def local(moment: datetime, tz: tzinfo) -> str:
    """A moment in the site's time zone, as a page shows it ("2027-01-05 09:30 PST")."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def check_details(details: HearingDetails, now: datetime) -> list[tuple[str, str]]:
    problems = []
    if details.starts_at.tzinfo is None:
        problems.append(("starts_at", "a time needs its time zone"))
    elif details.starts_at < now:
        problems.append(("starts_at", "the court date lies in the past"))
    elif details.starts_at > now + HORIZON:
        problems.append(("starts_at", "the court date lies more than two years ahead"))
    if not details.courtroom.strip() or len(details.courtroom.strip()) > 100:
        problems.append(("courtroom", "give 1 to 100 characters"))
    return problems


def _acts_for_office(viewer: Viewer, matter: ChargingMatter) -> bool:
    return (
        allowed(viewer.role, Action.charging_decide)
        and viewer.agency_id == matter.prosecuting_agency_id
    )


def _defends(db: Session, viewer: Viewer, matter: ChargingMatter) -> bool:
    return allowed(viewer.role, Action.defense_decisions) and viewer.user_id in assignment_holders(
        db, matter.person_id, AssignmentKind.defense
    )


def matter_for(db: Session, viewer: Viewer, matter_id: int) -> ChargingMatter:
    """The matter, if this viewer's office prosecutes it or they defend its client."""
    matter = db.get(ChargingMatter, matter_id)
    if matter is None or not (_acts_for_office(viewer, matter) or _defends(db, viewer, matter)):
        raise HearingNotFound("no such matter for you")
    return matter


def _hearing_for(db: Session, viewer: Viewer, hearing_id: int) -> CourtHearing:
    hearing = db.get(CourtHearing, hearing_id)
    if hearing is None:
        raise HearingNotFound("no such court date for you")
    matter_for(db, viewer, hearing.matter_id)
    return hearing


def _log(
    db: Session, actor: Actor, tag: SecurityEventTag, matter: ChargingMatter, hearing_id: int
) -> None:
    detail: dict[str, object] = {"matter_id": matter.id, "hearing_id": hearing_id}
    security_event(db, actor, tag, matter.person_id, detail, Purpose.charging_decision)


def _history(db: Session, hearing: CourtHearing, change: HearingChange, by: int) -> None:
    db.add(
        CourtHearingChange(
            hearing_id=ident(hearing.id),
            change=change,
            kind=hearing.kind,
            starts_at=hearing.starts_at,
            courtroom=hearing.courtroom,
            changed_by_id=by,
        )
    )


def set_hearing(
    db: Session,
    viewer: Viewer,
    matter_id: int,
    details: HearingDetails,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> CourtHearing:
    """A new court date on a matter. Commits."""
    matter = matter_for(db, viewer, matter_id)
    now = now or utcnow()
    problems = check_details(details, now)
    if problems:
        raise HearingRefused(problems)
    hearing = CourtHearing(
        matter_id=matter_id,
        kind=details.kind,
        starts_at=details.starts_at,
        courtroom=details.courtroom.strip(),
        set_by_id=viewer.user_id,
        created_at=now,
    )
    db.add(hearing)
    db.flush()
    _history(db, hearing, HearingChange.set, viewer.user_id)
    _log(db, actor, SecurityEventTag.hearing_set, matter, ident(hearing.id))
    db.commit()
    return hearing


def change_hearing(
    db: Session,
    viewer: Viewer,
    hearing_id: int,
    details: HearingDetails,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> CourtHearing:
    """Moves a court date (kind, date-time, courtroom); the earlier values stay in its
    history. A cancelled date is not moved: set a new one. Commits."""
    hearing = _hearing_for(db, viewer, hearing_id)
    problems = check_details(details, now or utcnow())
    if hearing.cancelled_at is not None:
        problems.insert(0, ("hearing", "the court date was cancelled: set a new one"))
    if problems:
        raise HearingRefused(problems)
    hearing.kind = details.kind
    hearing.starts_at = details.starts_at
    hearing.courtroom = details.courtroom.strip()
    db.add(hearing)
    _history(db, hearing, HearingChange.moved, viewer.user_id)
    matter = db.get(ChargingMatter, hearing.matter_id)
    assert matter is not None
    _log(db, actor, SecurityEventTag.hearing_changed, matter, hearing_id)
    db.commit()
    return hearing


def cancel_hearing(
    db: Session, viewer: Viewer, hearing_id: int, actor: Actor, *, now: datetime | None = None
) -> CourtHearing:
    """Cancels a court date; it stays, marked cancelled, with its history. Commits."""
    hearing = _hearing_for(db, viewer, hearing_id)
    if hearing.cancelled_at is not None:
        raise HearingRefused([("hearing", "the court date is already cancelled")])
    hearing.cancelled_at = now or utcnow()
    db.add(hearing)
    _history(db, hearing, HearingChange.cancelled, viewer.user_id)
    matter = db.get(ChargingMatter, hearing.matter_id)
    assert matter is not None
    _log(db, actor, SecurityEventTag.hearing_cancelled, matter, hearing_id)
    db.commit()
    return hearing


def _item(hearing: CourtHearing, matter: ChargingMatter, tz: tzinfo) -> HearingItem:
    return HearingItem(
        hearing_id=ident(hearing.id),
        matter_id=ident(matter.id),
        person_id=matter.person_id,
        offense_tracking_number=matter.offense_tracking_number,
        kind=hearing.kind,
        starts_at=hearing.starts_at,
        starts_local=local(hearing.starts_at, tz),
        courtroom=hearing.courtroom,
        cancelled=hearing.cancelled_at is not None,
    )


def hearings_of(db: Session, matter: ChargingMatter, tz: tzinfo) -> list[HearingItem]:
    """Every court date of a matter the caller may see (matter_for), soonest first."""
    rows = db.exec(
        select(CourtHearing)
        .where(CourtHearing.matter_id == matter.id)
        .order_by(col(CourtHearing.starts_at), col(CourtHearing.id))
    )
    return [_item(h, matter, tz) for h in rows]


def history_of(db: Session, hearing_ids: list[int], tz: tzinfo) -> dict[int, list[HistoryItem]]:
    found: dict[int, list[HistoryItem]] = {i: [] for i in hearing_ids}
    for row in db.exec(
        select(CourtHearingChange)
        .where(col(CourtHearingChange.hearing_id).in_(hearing_ids))
        .order_by(col(CourtHearingChange.id))
    ):
        found[row.hearing_id].append(
            HistoryItem(
                row.change, row.kind, local(row.starts_at, tz), row.courtroom, row.changed_at
            )
        )
    return found


def calendar(db: Session, viewer: Viewer, since: datetime, tz: tzinfo) -> list[HearingItem]:
    """The court dates from `since` on, soonest first, of the matters of the viewer's office
    (a prosecutor) or of their own defense clients (a defender); cancelled ones left out."""
    clients = select(ClientAssignment.person_id).where(
        ClientAssignment.user_id == viewer.user_id,
        ClientAssignment.kind == AssignmentKind.defense,
        col(ClientAssignment.ended_at).is_(None),
    )
    mine: list[Any] = []
    if allowed(viewer.role, Action.charging_decide):
        mine.append(ChargingMatter.prosecuting_agency_id == viewer.agency_id)
    if allowed(viewer.role, Action.defense_decisions):
        mine.append(col(ChargingMatter.person_id).in_(clients))
    if not mine:
        return []
    rows = db.exec(
        select(CourtHearing, ChargingMatter)
        .join(ChargingMatter, col(ChargingMatter.id) == CourtHearing.matter_id)
        .where(
            or_(*mine),
            col(CourtHearing.cancelled_at).is_(None),
            col(CourtHearing.starts_at) >= since,
        )
        .order_by(col(CourtHearing.starts_at), col(CourtHearing.id))
    )
    return [_item(h, m, tz) for h, m in rows]


def send_reminders(db: Session, now: datetime, days: int) -> int:
    """Tells the matter's prosecutors and the client's defenders of each court date within
    `days`, once per date and time (a moved date is told again). The notification and its
    mail carry a fixed text and a link only. Returns how many were new; commits."""
    rows = db.exec(
        select(CourtHearing, ChargingMatter)
        .join(ChargingMatter, col(ChargingMatter.id) == CourtHearing.matter_id)
        .where(
            col(CourtHearing.cancelled_at).is_(None),
            col(CourtHearing.starts_at) >= now,
            col(CourtHearing.starts_at) <= now + timedelta(days=days),
        )
        .order_by(col(CourtHearing.id))
    )
    sent = 0
    for hearing, matter in rows:
        to = agency_users(db, matter.prosecuting_agency_id, [Role.prosecutor])
        to += assignment_holders(db, matter.person_id, AssignmentKind.defense)
        moment = hearing.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        key = f"court-date:{hearing.id}:{moment}"
        sent += notify(db, to, NotificationKind.court_date_near, "/calendar", key)
    db.commit()
    return sent
