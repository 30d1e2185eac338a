"""Meetings and their series: creating them (with invitees and carried-over action items),
the next meeting of a series, and the meeting's course: published, attendance and its
recorder, held (after a check), minutes approved."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.db import ident, rollback_on_error, utcnow
from hub.notifications.services import notify
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import (
    MeetingStatus,
    NotificationKind,
    Role,
    SecurityEventTag,
    UserStatus,
)
from hub.workgroup.access import (
    carry_over,
    invitee_ids,
    items_on,
    meeting_for,
    open_draft,
    touch,
)
from hub.workgroup.models import (
    MeetingInvitee,
    MeetingSeries,
    WorkGroupMeeting,
)
from hub.workgroup.rules import (
    OPEN_MEETING,
    WorkGroupError,
    checked_text,
    require_coordinator,
    security_event,
)


@dataclass(frozen=True)
class MeetingForm:
    title: str
    starts_at: datetime  # aware
    place: str | None
    call_link: str | None
    invitee_ids: Sequence[int]


# How far ahead a meeting may be set: a date further out is a slip of the keyboard (9999).
MEETING_HORIZON = timedelta(days=731)


def _check_form(db: Session, form: MeetingForm, now: datetime) -> list[int]:
    checked_text(form.title, "title", 200)
    if form.starts_at.tzinfo is None:
        raise WorkGroupError("the start time needs a time zone")
    if form.starts_at < now:
        raise WorkGroupError("a meeting cannot start in the past: give a time still to come")
    if form.starts_at > now + MEETING_HORIZON:
        raise WorkGroupError("a meeting can be set at most two years ahead")
    if not ((form.place or "").strip() or (form.call_link or "").strip()):
        raise WorkGroupError("give a place or a call link")
    if form.call_link and not form.call_link.strip().startswith("https://"):
        raise WorkGroupError("a call link starts with https://")
    ids = sorted(set(form.invitee_ids))
    found = set(
        db.exec(
            select(User.id).where(col(User.id).in_(ids), User.status == UserStatus.active)
        ).all()
    )
    if not ids or found != set(ids):
        raise WorkGroupError("invite active users (of any agency)")
    admins = db.exec(select(User.id).where(col(User.id).in_(ids), User.role == Role.admin)).all()
    if admins:
        raise WorkGroupError("an administrator sees no client data and cannot be invited")
    return ids


def _new_meeting(
    db: Session,
    coordinator: Viewer,
    form: MeetingForm,
    invitees: list[int],
    actor: Actor,
    series: MeetingSeries | None = None,
) -> WorkGroupMeeting:
    meeting = WorkGroupMeeting(
        title=form.title.strip(),
        starts_at=form.starts_at.astimezone(UTC).replace(second=0, microsecond=0),
        place=(form.place or "").strip() or None,
        call_link=(form.call_link or "").strip() or None,
        created_by_id=coordinator.user_id,
        series_id=series.id if series else None,
        series=_series_label(series) if series else None,
    )
    db.add(meeting)
    db.flush()
    for user_id in sorted({*invitees, coordinator.user_id}):
        db.add(MeetingInvitee(meeting_id=ident(meeting.id), user_id=user_id))
    db.flush()
    carry_over(db, meeting, coordinator.user_id)
    security_event(
        db,
        actor,
        SecurityEventTag.meeting_created,
        {"meeting_id": meeting.id, "series_id": meeting.series_id, "invitees": len(invitees)},
    )
    return meeting


def _series_label(series: MeetingSeries) -> str:
    weeks, days = divmod(series.interval_days, 7)
    if days == 0 and weeks == 1:
        return "every week"
    if days == 0 and weeks == 2:
        return "every other week"
    return f"every {series.interval_days} days"


def create_meeting(
    db: Session,
    coordinator: Viewer,
    form: MeetingForm,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> WorkGroupMeeting:
    """A one-off meeting in draft, with its invitees (the coordinator always among them) and
    any open action items carried onto its agenda. It starts between now and two years ahead.
    Commits."""
    require_coordinator(coordinator)
    with rollback_on_error(db):
        invitees = _check_form(db, form, now or utcnow())
        meeting = _new_meeting(db, coordinator, form, invitees, actor)
        db.commit()
    return meeting


def create_series(
    db: Session,
    coordinator: Viewer,
    form: MeetingForm,
    interval_days: int,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> WorkGroupMeeting:
    """A recurring series (e.g. every 14 days) and its first meeting, which starts between now
    and two years ahead. Commits."""
    require_coordinator(coordinator)
    if not 1 <= interval_days <= 56:
        raise WorkGroupError("a series meets every 1 to 56 days")
    with rollback_on_error(db):
        invitees = _check_form(db, form, now or utcnow())
        series = MeetingSeries(
            title=form.title.strip(),
            interval_days=interval_days,
            place=(form.place or "").strip() or None,
            call_link=(form.call_link or "").strip() or None,
            created_by_id=coordinator.user_id,
        )
        db.add(series)
        db.flush()
        meeting = _new_meeting(db, coordinator, form, invitees, actor, series)
        db.commit()
    return meeting


def next_in_series(
    db: Session,
    coordinator: Viewer,
    series_id: int,
    actor: Actor,
    *,
    rules: SiteRules | None = None,
) -> WorkGroupMeeting:
    """The series' next meeting: the latest one plus the interval, at the same local time (the
    site's time zone, so a daylight-saving change does not move it), same invitees. Commits."""
    require_coordinator(coordinator)
    rules = rules or current_rules(db)
    series = db.get(MeetingSeries, series_id)
    if series is None or series.ended_at is not None:
        raise WorkGroupError("no such series")
    last = db.exec(
        select(WorkGroupMeeting)
        .where(WorkGroupMeeting.series_id == series_id)
        .order_by(col(WorkGroupMeeting.starts_at).desc())
    ).first()
    if last is None:
        raise WorkGroupError("the series has no meeting to follow")
    local = last.starts_at.astimezone(rules.tz)
    day = local.date() + timedelta(days=series.interval_days)
    starts_at = datetime.combine(day, time(local.hour, local.minute), rules.tz)
    invitees = list(
        db.exec(select(MeetingInvitee.user_id).where(MeetingInvitee.meeting_id == last.id)).all()
    )
    form = MeetingForm(series.title, starts_at, series.place, series.call_link, invitees)
    with rollback_on_error(db):
        meeting = _new_meeting(db, coordinator, form, invitees, actor, series)
        db.commit()
    return meeting


def series_list(db: Session) -> list[MeetingSeries]:
    return list(
        db.exec(
            select(MeetingSeries)
            .where(col(MeetingSeries.ended_at).is_(None))
            .order_by(col(MeetingSeries.id))
        )
    )


def publish(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> int:
    """Publishes a draft agenda and notifies every invited member (a fixed text and a link by
    id: no personal data). Returns how many were notified. Commits."""
    meeting = open_draft(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.draft:
        raise WorkGroupError("the agenda is already published")
    with rollback_on_error(db):
        carry_over(db, meeting, coordinator.user_id)
        meeting.status = MeetingStatus.published
        meeting.published_at = utcnow()
        touch(db, meeting)
        members = [u for u in invitee_ids(db, meeting_id) if u != coordinator.user_id]
        notified = notify(
            db,
            members,
            NotificationKind.agenda_published,
            f"/work-group/meetings/{meeting_id}",
            f"agenda_published:meeting:{meeting_id}",
        )
        security_event(
            db,
            actor,
            SecurityEventTag.agenda_published,
            {"meeting_id": meeting_id, "notified": notified},
        )
        db.commit()
    return notified


@dataclass(frozen=True)
class ClosingCheck:
    """What the coordinator is asked to confirm before closing a meeting: items not marked
    discussed, and a meeting whose scheduled start has not come."""

    undiscussed: int
    starts_at: datetime
    not_started: bool

    @property
    def clear(self) -> bool:
        return not self.undiscussed and not self.not_started


class CloseNotConfirmed(WorkGroupError):
    """Closing needs the coordinator's confirmation (`check` says why); nothing was changed."""

    def __init__(self, check: ClosingCheck) -> None:
        reasons = []
        if check.undiscussed:
            reasons.append(f"{check.undiscussed} item(s) not discussed")
        if check.not_started:
            reasons.append("the meeting's date has not come")
        super().__init__("confirm closing: " + " and ".join(reasons))
        self.check = check


def closing_check(db: Session, meeting: WorkGroupMeeting, now: datetime) -> ClosingCheck:
    undiscussed = sum(1 for i in items_on(db, ident(meeting.id)) if i.discussed_at is None)
    return ClosingCheck(undiscussed, meeting.starts_at, now < meeting.starts_at)


def mark_held(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    actor: Actor,
    *,
    confirmed: bool = False,
    now: datetime | None = None,
) -> None:
    """The meeting took place: the agenda closes, the minutes can be reviewed. With items not
    discussed, or before its scheduled start, it raises CloseNotConfirmed (nothing changed)
    unless `confirmed`. Commits."""
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.published:
        raise WorkGroupError("only a published meeting can be marked held")
    now = now or utcnow()
    check = closing_check(db, meeting, now)
    if not (check.clear or confirmed):
        raise CloseNotConfirmed(check)
    with rollback_on_error(db):
        meeting.status = MeetingStatus.held
        meeting.held_at = now
        touch(db, meeting)
        security_event(
            db,
            actor,
            SecurityEventTag.meeting_held,
            {
                "meeting_id": meeting_id,
                "undiscussed": check.undiscussed,
                "before_start": check.not_started,
            },
        )
        db.commit()


@dataclass(frozen=True)
class Attendance:
    """Who of the invited came (None: not recorded yet), and the recorder."""

    invited: dict[int, bool | None]
    recorder_id: int | None

    @property
    def recorded(self) -> bool:
        return any(came is not None for came in self.invited.values())

    @property
    def attended(self) -> list[int]:
        return [u for u, came in self.invited.items() if came]

    @property
    def absent(self) -> list[int]:
        return [u for u, came in self.invited.items() if came is False]


def attendance_of(db: Session, meeting: WorkGroupMeeting) -> Attendance:
    rows = db.exec(
        select(MeetingInvitee.user_id, MeetingInvitee.attended)
        .where(MeetingInvitee.meeting_id == meeting.id)
        .order_by(col(MeetingInvitee.user_id))
    )
    return Attendance({ident(u): came for u, came in rows}, meeting.recorder_id)


def record_attendance(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    attended: Sequence[int],
    recorder_id: int | None,
    actor: Actor,
) -> Attendance:
    """Who of the invited members attended, and the recorder among them, while the meeting is
    published or held; recorded again, it replaces the earlier record. Commits."""
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status not in OPEN_MEETING:
        raise WorkGroupError("attendance is recorded while the meeting is published or held")
    came = set(attended)
    invitees = {row.user_id: row for row in _invitee_rows(db, meeting_id)}
    if not came:
        raise WorkGroupError("tick the members who attended")
    if not came <= set(invitees):
        raise WorkGroupError("tick invited members only")
    if recorder_id is not None and recorder_id not in came:
        raise WorkGroupError("the recorder is one of the members who attended")
    with rollback_on_error(db):
        for user_id, row in invitees.items():
            row.attended = user_id in came
            db.add(row)
        meeting.recorder_id = recorder_id
        db.add(meeting)
        security_event(
            db,
            actor,
            SecurityEventTag.attendance_recorded,
            {"meeting_id": meeting_id, "attended": sorted(came), "recorder_id": recorder_id},
        )
        db.commit()
    return attendance_of(db, meeting)


def _invitee_rows(db: Session, meeting_id: int) -> list[MeetingInvitee]:
    return list(db.exec(select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id)))


@dataclass(frozen=True)
class NextMeeting:
    """After a meeting of a series: its next one if made, else the series to make it from."""

    series_id: int
    meeting: WorkGroupMeeting | None


def next_meeting_of(db: Session, meeting: WorkGroupMeeting) -> NextMeeting | None:
    """For a meeting of a running series: the series' next meeting, if there is one yet."""
    if meeting.series_id is None:
        return None
    series = db.get(MeetingSeries, meeting.series_id)
    if series is None or series.ended_at is not None:
        return None
    later = db.exec(
        select(WorkGroupMeeting)
        .where(
            WorkGroupMeeting.series_id == meeting.series_id,
            WorkGroupMeeting.starts_at > meeting.starts_at,
        )
        .order_by(col(WorkGroupMeeting.starts_at))
    ).first()
    return NextMeeting(ident(series.id), later)


def approve_minutes(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> None:
    """Approves the minutes; open action items go onto the agendas of later meetings not yet
    held. Commits."""
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.held:
        raise WorkGroupError("minutes are approved after the meeting is held")
    with rollback_on_error(db):
        meeting.status = MeetingStatus.minutes_approved
        meeting.minutes_approved_at = utcnow()
        meeting.minutes_approved_by_id = coordinator.user_id
        touch(db, meeting)
        for later in db.exec(
            select(WorkGroupMeeting).where(
                WorkGroupMeeting.starts_at > meeting.starts_at,
                col(WorkGroupMeeting.status).in_([MeetingStatus.draft, MeetingStatus.published]),
            )
        ):
            carry_over(db, later, coordinator.user_id)
        security_event(db, actor, SecurityEventTag.minutes_approved, {"meeting_id": meeting_id})
        db.commit()
