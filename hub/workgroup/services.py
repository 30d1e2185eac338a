"""Operational work groups (purpose: work_group): meetings and series, the agenda the
coordinator builds from proposals, members' updates, the meeting's notes, action items and
charging decisions, the minutes, and the live agenda's version.

Proposals are computed from ids and non-client fields only (dates, statuses, ids); every view of
an item, the coordinator's proposals included, goes through hub.disclosure.items, which decides
per member, per client, per category, and logs one disclosure entry per item shown. Every write
logs a security event in its transaction and commits.
"""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append, append_refusal, canonical_json
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.charging.services import record_decision
from hub.clients.models import Person
from hub.db import rollback_on_error, utcnow
from hub.disclosure.items import (
    DisclosedItem,
    ItemRequest,
    ItemShape,
    disclose_items,
    item_shapes,
)
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.policy import decide, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.notifications.services import notify
from hub.referrals.models import Referral
from hub.referrals.rules import SiteRules, current_rules
from hub.referrals.services import current_decisions, deadline_status, ident
from hub.settings import get_settings
from hub.site import read_setting, write_setting
from hub.vocabulary import (
    Action,
    ActionItemStatus,
    AgendaItemKind,
    Category,
    DeadlineStatus,
    DecisionOutcome,
    ItemEntryKind,
    MeetingStatus,
    NotificationKind,
    ProgramStatus,
    Purpose,
    Role,
    SecurityEventTag,
    UserStatus,
)
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    ItemEntry,
    MeetingInvitee,
    MeetingSeries,
    WorkGroupMeeting,
)

PURPOSE = Purpose.work_group
NOT_SEEN_SETTING = "work_group.not_seen_days"
DEFAULT_NOT_SEEN_DAYS = 30
MAX_TEXT = 4000
# Grouping by kind follows the order a work group takes them in.
KIND_ORDER = (
    AgendaItemKind.new_arrest,
    AgendaItemKind.intake_deadline,
    AgendaItemKind.new_referral,
    AgendaItemKind.flagged,
    AgendaItemKind.not_seen,
    AgendaItemKind.action_item,
    AgendaItemKind.manual,
)
KIND_LABELS = {
    AgendaItemKind.new_referral: "New referral",
    AgendaItemKind.intake_deadline: "Intake deadline near or missed",
    AgendaItemKind.new_arrest: "New arrest awaiting a filing decision",
    AgendaItemKind.flagged: "Flagged for discussion",
    AgendaItemKind.not_seen: "Not seen recently",
    AgendaItemKind.action_item: "Open action item",
    AgendaItemKind.manual: "Added by the coordinator",
}
# Why an item is on the agenda is itself client data of a category (that someone was
# arrested is legal, that intake is late is engagement): a member who may not see that
# category sees only "Client item". Flags and action items take their own category.
KIND_CATEGORY: dict[AgendaItemKind, Category | None] = {
    AgendaItemKind.new_referral: Category.referral,
    AgendaItemKind.intake_deadline: Category.engagement,
    AgendaItemKind.new_arrest: Category.legal,
    AgendaItemKind.not_seen: Category.engagement,
    AgendaItemKind.manual: Category.identity,
}
_PARTICIPANT_STATUSES = (
    ProgramStatus.enrolled,
    ProgramStatus.active,
    ProgramStatus.not_engaged,
    ProgramStatus.re_engaged,
)
_OPEN_MEETING = (MeetingStatus.published, MeetingStatus.held)


class WorkGroupError(ValueError):
    """A work-group step breaks a rule; the message says which. Nothing was changed."""


class MeetingNotFound(WorkGroupError):
    """No such meeting for this viewer (the same answer whether it exists or not)."""


# --- small helpers ----------------------------------------------------------------------------


def _security_event(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    detail: dict[str, Any],
    *,
    person_id: int | None = None,
    categories: Sequence[Category] = (),
) -> None:
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome="success",
            purpose=PURPOSE.value,
            person_id=person_id,
            categories=[c.value for c in categories],
            detail=detail,
        ),
    )


def _touch(db: Session, meeting: WorkGroupMeeting) -> None:
    meeting.version += 1
    db.add(meeting)


def _text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkGroupError(f"write the {what}")
    if len(value) > limit:
        raise WorkGroupError(f"keep the {what} under {limit} characters")
    return value


def _category(value: Category | str | None, person_id: int | None) -> Category | None:
    """A client item's words need the category of what they say; program business has none."""
    if person_id is None:
        if value:
            raise WorkGroupError("an item without a client takes no disclosure category")
        return None
    try:
        return Category(value) if value else _missing_category()
    except ValueError:
        raise WorkGroupError(f"not a disclosure category: {value}") from None


def _missing_category() -> Category:
    raise WorkGroupError("choose the disclosure category of what you wrote about the client")


def _require_coordinator(viewer: Viewer) -> None:
    if viewer.role != Role.coordinator:
        raise WorkGroupError("only the coordinator can do this")


def not_seen_days(db: Session) -> int:
    return int(read_setting(db, NOT_SEEN_SETTING, DEFAULT_NOT_SEEN_DAYS))


def set_not_seen_days(db: Session, coordinator: Viewer, days: int, actor: Actor) -> None:
    """The site setting behind the "not seen recently" proposals. Commits."""
    _require_coordinator(coordinator)
    if not 1 <= days <= 365:
        raise WorkGroupError("give a number of days from 1 to 365")
    with rollback_on_error(db):
        write_setting(db, NOT_SEEN_SETTING, days)
        _security_event(db, actor, SecurityEventTag.agenda_changed, {NOT_SEEN_SETTING: days})
        db.commit()


# --- meetings and series ------------------------------------------------------------------


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
    _text(form.title, "title", 200)
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
    _carry_over(db, meeting, coordinator.user_id)
    _security_event(
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
    _require_coordinator(coordinator)
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
    _require_coordinator(coordinator)
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
    _require_coordinator(coordinator)
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


def invitee_ids(db: Session, meeting_id: int) -> list[int]:
    return list(
        db.exec(select(MeetingInvitee.user_id).where(MeetingInvitee.meeting_id == meeting_id))
    )


def meetings_for(db: Session, viewer: Viewer) -> list[WorkGroupMeeting]:
    """The coordinator's every meeting; a member's meetings they are invited to, once
    published. Newest first."""
    query = select(WorkGroupMeeting)
    if viewer.role != Role.coordinator:
        query = query.join(
            MeetingInvitee, col(MeetingInvitee.meeting_id) == WorkGroupMeeting.id
        ).where(
            MeetingInvitee.user_id == viewer.user_id,
            WorkGroupMeeting.status != MeetingStatus.draft,
        )
    return list(db.exec(query.order_by(col(WorkGroupMeeting.starts_at).desc()).limit(100)))


def meeting_for(db: Session, viewer: Viewer, meeting_id: int) -> WorkGroupMeeting:
    """The meeting, if this viewer may open it: the coordinator, or an invitee once the agenda
    is published. Raises MeetingNotFound otherwise (the same answer as for no meeting)."""
    meeting = db.get(WorkGroupMeeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound("no such meeting")
    if viewer.role == Role.coordinator:
        return meeting
    invited = db.get(MeetingInvitee, (meeting_id, viewer.user_id)) is not None
    if not invited or meeting.status == MeetingStatus.draft:
        raise MeetingNotFound("no such meeting")
    return meeting


def live_version(db: Session, viewer: Viewer, meeting_id: int) -> int:
    """This viewer's version of the live agenda, for its poll: no client data, no log. It
    changes only when what this viewer receives changes (decided, nothing read or shown), so
    an update they may not see does not tell them that something was written."""
    meeting = meeting_for(db, viewer, meeting_id)
    items = _items(db, meeting_id)
    version = viewer_version(meeting, items, item_shapes(db, viewer, _requests(db, items), PURPOSE))
    db.rollback()  # SQLite: end the read transaction (and its write lock) at once
    return version


def viewer_version(
    meeting: WorkGroupMeeting, items: Sequence[AgendaItem], shapes: Sequence[ItemShape]
) -> int:
    """A number for the agenda as one viewer receives it: its status, and each item's place,
    discussion mark, topic (program business) and the ids and states of what reaches them."""
    by_key = {s.key: s for s in shapes}
    rows = [
        [
            item.id,
            item.position,
            item.discussed_at is not None,
            item.topic if item.person_id is None else None,
            astuple(by_key[str(item.id)]),
        ]
        for item in items
        if str(item.id) in by_key
    ]
    digest = hashlib.sha256(canonical_json([meeting.status.value, rows])).hexdigest()
    return int(digest[:12], 16)  # 48 bits: a query parameter, not a secret


# --- proposals ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A computed candidate item: ids only. `key` names it in the coordinator's form."""

    kind: AgendaItemKind
    person_id: int
    referral_id: int | None = None
    matter_id: int | None = None
    flag_id: int | None = None
    action_item_id: int | None = None

    @property
    def key(self) -> str:
        refs = (self.referral_id, self.matter_id, self.flag_id, self.action_item_id)
        return f"{self.kind.value}:{self.person_id}:" + ":".join(str(r or 0) for r in refs)

    @property
    def token(self) -> str:
        """The key as the coordinator's form carries it: opaque, since the key names the kind
        (an arrest is legal data) and the client, which the page may withhold."""
        secret = get_settings().secret_key
        assert secret is not None
        return hmac.new(
            secret.get_secret_value().encode(), self.key.encode(), hashlib.sha256
        ).hexdigest()[:32]


def _since(db: Session, meeting: WorkGroupMeeting) -> datetime:
    previous = db.exec(
        select(WorkGroupMeeting.starts_at)
        .where(
            WorkGroupMeeting.starts_at < meeting.starts_at,
            WorkGroupMeeting.id != meeting.id,
            col(WorkGroupMeeting.status).in_(
                [MeetingStatus.published, MeetingStatus.held, MeetingStatus.minutes_approved]
            ),
        )
        .order_by(col(WorkGroupMeeting.starts_at).desc())
    ).first()
    return previous or meeting.starts_at - timedelta(days=14)


def compute_proposals(
    db: Session, meeting: WorkGroupMeeting, today: date, *, rules: SiteRules | None = None
) -> list[Proposal]:
    """Candidate items from the data since the previous meeting: new referrals, intake
    deadlines near or missed, new arrests awaiting a filing decision, open discussion flags,
    participants not seen for the site's number of days; those already on the agenda are left
    out. Reads ids, dates and statuses only."""
    rules = rules or current_rules(db)
    since = _since(db, meeting)
    proposals: list[Proposal] = []
    # Only the columns the proposals need: ids, dates and statuses, never offenses or names.
    matters = [
        ChargingMatter.model_construct(
            id=row[0], person_id=row[1], referral_id=row[2], arrested_at=row[3], created_at=row[4]
        )
        for row in db.exec(
            select(  # type: ignore[call-overload]
                ChargingMatter.id,
                ChargingMatter.person_id,
                ChargingMatter.referral_id,
                ChargingMatter.arrested_at,
                ChargingMatter.created_at,
            )
        )
    ]
    standing = current_decisions(db, [ident(m.id) for m in matters])
    awaiting = {
        ident(m.id): m
        for m in matters
        if (d := standing.get(ident(m.id))) is None or d.outcome == DecisionOutcome.more_information
    }
    matter_of_referral = {m.referral_id: ident(m.id) for m in awaiting.values() if m.referral_id}
    referrals = [
        Referral.model_construct(
            id=row[0],
            person_id=row[1],
            referred_at=row[2],
            intake_due_on=row[3],
            screening_done_at=row[4],
            intake_done_at=row[5],
        )
        for row in db.exec(
            select(  # type: ignore[call-overload]
                Referral.id,
                Referral.person_id,
                Referral.referred_at,
                Referral.intake_due_on,
                Referral.screening_done_at,
                Referral.intake_done_at,
            ).order_by(col(Referral.referred_at))
        )
    ]
    for referral in referrals:
        if referral.referred_at >= since:
            proposals.append(
                Proposal(
                    AgendaItemKind.new_referral,
                    referral.person_id,
                    referral_id=referral.id,
                    matter_id=matter_of_referral.get(ident(referral.id)),
                )
            )
        done = referral.screening_done_at is not None and referral.intake_done_at is not None
        status = deadline_status(referral, today, tz=rules.tz)
        if not done and status in (DeadlineStatus.near, DeadlineStatus.missed):
            proposals.append(
                Proposal(
                    AgendaItemKind.intake_deadline,
                    referral.person_id,
                    referral_id=referral.id,
                    matter_id=matter_of_referral.get(ident(referral.id)),
                )
            )
    for matter in sorted(awaiting.values(), key=lambda m: m.arrested_at):
        if matter.referral_id is None and matter.created_at >= since:
            proposals.append(
                Proposal(AgendaItemKind.new_arrest, matter.person_id, matter_id=matter.id)
            )
    for flag_id, flagged_person in db.exec(
        select(DiscussionFlag.id, DiscussionFlag.person_id)
        .where(col(DiscussionFlag.taken_up_at).is_(None))
        .order_by(col(DiscussionFlag.id))
    ):
        proposals.append(Proposal(AgendaItemKind.flagged, flagged_person, flag_id=flag_id))
    cutoff = today - timedelta(days=not_seen_days(db))
    for person_id in db.exec(
        select(Person.id)
        .where(
            col(Person.program_status).in_(_PARTICIPANT_STATUSES),
            (col(Person.last_contact_on) < cutoff) | col(Person.last_contact_on).is_(None),
        )
        .order_by(col(Person.id))
    ):
        proposals.append(Proposal(AgendaItemKind.not_seen, ident(person_id)))
    on_agenda = {p.key for p in _item_proposals(_items(db, ident(meeting.id)))}
    return [p for p in proposals if p.key not in on_agenda]


def _item_proposals(items: Sequence[AgendaItem]) -> list[Proposal]:
    return [
        Proposal(
            i.kind,
            i.person_id,
            referral_id=i.referral_id,
            matter_id=i.matter_id,
            flag_id=i.flag_id,
            action_item_id=i.action_item_id,
        )
        for i in items
        if i.person_id is not None
    ]


def proposal_requests(proposals: Sequence[Proposal]) -> list[ItemRequest]:
    return [
        ItemRequest(
            key=p.key,
            person_id=p.person_id,
            flag_ids=[p.flag_id] if p.flag_id else (),
            reason_category=KIND_CATEGORY.get(p.kind),
        )
        for p in proposals
    ]


def show_proposals(
    db: Session, coordinator: Viewer, meeting_id: int, actor: Actor, today: date
) -> list[tuple[Proposal, DisclosedItem]]:
    """The proposals for a draft agenda, each shown to the coordinator through the policy
    (purpose work_group) and logged like any item view."""
    _require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    proposals = compute_proposals(db, meeting, today)
    shown = disclose_items(
        db, coordinator, proposal_requests(proposals), PURPOSE, actor, view="proposal"
    )
    by_key = {s.key: s for s in shown}
    return [(p, by_key[p.key]) for p in proposals if p.key in by_key]


# --- building the agenda ------------------------------------------------------------------


def _items(db: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        db.exec(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, col(AgendaItem.removed_at).is_(None))
            .order_by(col(AgendaItem.position), col(AgendaItem.id))
        )
    )


def _draft(db: Session, coordinator: Viewer, meeting_id: int) -> WorkGroupMeeting:
    _require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status not in (MeetingStatus.draft, MeetingStatus.published):
        raise WorkGroupError("the meeting was held: its agenda is closed")
    return meeting


def _append_item(db: Session, meeting: WorkGroupMeeting, item: AgendaItem) -> AgendaItem:
    positions = [i.position for i in _items(db, ident(meeting.id))]
    item.position = max(positions, default=0) + 1
    db.add(item)
    db.flush()
    _touch(db, meeting)
    return item


def add_proposed_items(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    keys: Sequence[str],
    actor: Actor,
    today: date,
) -> list[AgendaItem]:
    """Puts the chosen proposals on the agenda. Only keys of proposals computed now are
    accepted (no item for a client the data does not propose). Commits."""
    meeting = _draft(db, coordinator, meeting_id)
    computed = compute_proposals(db, meeting, today)
    # The form sends each proposal's token; a key (services, tests) is accepted alike.
    proposals = {p.key: p for p in computed} | {p.token: p for p in computed}
    unknown = [k for k in keys if k not in proposals]
    if unknown or not keys:
        raise WorkGroupError("choose proposals from the list (it may have changed: reload it)")
    added = []
    with rollback_on_error(db):
        for key in dict.fromkeys(proposals[k].key for k in keys):
            p = proposals[key]
            item = _append_item(
                db,
                meeting,
                AgendaItem(
                    meeting_id=ident(meeting.id),
                    kind=p.kind,
                    person_id=p.person_id,
                    referral_id=p.referral_id,
                    matter_id=p.matter_id or _awaiting_matter(db, p.person_id),
                    flag_id=p.flag_id,
                    added_by_id=coordinator.user_id,
                ),
            )
            if p.flag_id:
                _take_up(db, p.flag_id, utcnow())
            added.append(item)
        _security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting.id, "added": [i.id for i in added]},
        )
        db.commit()
    return added


def _take_up(db: Session, flag_id: int, at: datetime | None) -> None:
    # An UPDATE of the one column: the flag's note is client data and is not read here.
    db.exec(update(DiscussionFlag).where(col(DiscussionFlag.id) == flag_id).values(taken_up_at=at))


def _awaiting_matter(db: Session, person_id: int) -> int | None:
    """A client's matter awaiting a filing decision, so a prosecutor can decide from the item."""
    matters = list(db.exec(select(ChargingMatter).where(ChargingMatter.person_id == person_id)))
    standing = current_decisions(db, [ident(m.id) for m in matters])
    for matter in sorted(matters, key=lambda m: m.arrested_at, reverse=True):
        decision = standing.get(ident(matter.id))
        if decision is None or decision.outcome == DecisionOutcome.more_information:
            return matter.id
    return None


def add_manual_item(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    actor: Actor,
    *,
    topic: str | None = None,
    person_id: int | None = None,
    category: Category | str | None = None,
    text: str | None = None,
) -> AgendaItem:
    """An item by hand: program business with a topic (no client data in it), or a client with
    the coordinator's words as the item's first entry, under their category. Commits."""
    meeting = _draft(db, coordinator, meeting_id)
    with rollback_on_error(db):
        if person_id is None:
            item = AgendaItem(
                meeting_id=meeting_id,
                kind=AgendaItemKind.manual,
                topic=_text(topic or "", "topic", 200),
                added_by_id=coordinator.user_id,
            )
            _append_item(db, meeting, item)
        else:
            if db.get(Person, person_id) is None:
                raise WorkGroupError("no such client")
            chosen = _category(category, person_id)
            body = _text(text or "", "reason for discussing the client")
            item = _append_item(
                db,
                meeting,
                AgendaItem(
                    meeting_id=meeting_id,
                    kind=AgendaItemKind.manual,
                    person_id=person_id,
                    matter_id=_awaiting_matter(db, person_id),
                    added_by_id=coordinator.user_id,
                ),
            )
            _write_entry(db, coordinator, item, ItemEntryKind.update, chosen, body, actor)
        _security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting_id, "added": [item.id]},
        )
        db.commit()
    return item


def move_item(db: Session, coordinator: Viewer, item_id: int, direction: str, actor: Actor) -> None:
    """Moves an item one place up or down. Commits."""
    item = _item(db, item_id)
    meeting = _draft(db, coordinator, item.meeting_id)
    items = _items(db, item.meeting_id)
    index = next(n for n, i in enumerate(items) if i.id == item.id)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise WorkGroupError("move an item up or down")
    with rollback_on_error(db):
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
            _renumber(db, items)
            _touch(db, meeting)
            _security_event(
                db,
                actor,
                SecurityEventTag.agenda_changed,
                {"meeting_id": meeting.id, "moved": item_id},
            )
        db.commit()


def _renumber(db: Session, items: Sequence[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position
        db.add(item)


def group_by_kind(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> None:
    """Orders the agenda by kind (new arrests first), keeping the order within each kind."""
    meeting = _draft(db, coordinator, meeting_id)
    items = _items(db, meeting_id)
    with rollback_on_error(db):
        _renumber(db, sorted(items, key=lambda i: KIND_ORDER.index(i.kind)))
        _touch(db, meeting)
        _security_event(
            db, actor, SecurityEventTag.agenda_changed, {"meeting_id": meeting_id, "grouped": True}
        )
        db.commit()


def remove_item(db: Session, coordinator: Viewer, item_id: int, actor: Actor) -> None:
    """Takes an item off the agenda (kept, marked removed: log entries may name it); a flag it
    came from is open again for a later agenda. Commits."""
    item = _item(db, item_id)
    meeting = _draft(db, coordinator, item.meeting_id)
    with rollback_on_error(db):
        item.removed_at = utcnow()
        db.add(item)
        if item.flag_id:
            _take_up(db, item.flag_id, None)
        _touch(db, meeting)
        _security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting.id, "removed": item_id},
        )
        db.commit()


def _carry_over(db: Session, meeting: WorkGroupMeeting, added_by_id: int) -> int:
    """Open action items of earlier meetings go onto this agenda until done (idempotent)."""
    if meeting.status not in (MeetingStatus.draft, MeetingStatus.published):
        return 0
    carried = set(
        db.exec(
            select(AgendaItem.action_item_id).where(
                AgendaItem.meeting_id == meeting.id, col(AgendaItem.removed_at).is_(None)
            )
        )
    )
    earlier = select(WorkGroupMeeting.id).where(
        WorkGroupMeeting.starts_at < meeting.starts_at, WorkGroupMeeting.id != meeting.id
    )
    actions = db.exec(
        select(ActionItem.id, ActionItem.person_id)
        .where(
            ActionItem.status == ActionItemStatus.open,
            col(ActionItem.meeting_id).in_(earlier),
        )
        .order_by(col(ActionItem.id))
    ).all()
    added = 0
    for action_id, action_person in actions:
        if action_id in carried:
            continue
        _append_item(
            db,
            meeting,
            AgendaItem(
                meeting_id=ident(meeting.id),
                kind=AgendaItemKind.action_item,
                person_id=action_person,
                action_item_id=action_id,
                added_by_id=added_by_id,
            ),
        )
        added += 1
    return added


def publish(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> int:
    """Publishes a draft agenda and notifies every invited member (a fixed text and a link by
    id: no personal data). Returns how many were notified. Commits."""
    meeting = _draft(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.draft:
        raise WorkGroupError("the agenda is already published")
    with rollback_on_error(db):
        _carry_over(db, meeting, coordinator.user_id)
        meeting.status = MeetingStatus.published
        meeting.published_at = utcnow()
        _touch(db, meeting)
        members = [u for u in invitee_ids(db, meeting_id) if u != coordinator.user_id]
        notified = notify(
            db,
            members,
            NotificationKind.agenda_published,
            f"/work-group/meetings/{meeting_id}",
            f"agenda_published:meeting:{meeting_id}",
        )
        _security_event(
            db,
            actor,
            SecurityEventTag.agenda_published,
            {"meeting_id": meeting_id, "notified": notified},
        )
        db.commit()
    return notified


def mark_held(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> None:
    """The meeting took place: the agenda closes, the minutes can be reviewed. Commits."""
    _require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.published:
        raise WorkGroupError("only a published meeting can be marked held")
    with rollback_on_error(db):
        meeting.status = MeetingStatus.held
        meeting.held_at = utcnow()
        _touch(db, meeting)
        _security_event(db, actor, SecurityEventTag.meeting_held, {"meeting_id": meeting_id})
        db.commit()


def approve_minutes(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> None:
    """Approves the minutes; open action items go onto the agendas of later meetings not yet
    held. Commits."""
    _require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status != MeetingStatus.held:
        raise WorkGroupError("minutes are approved after the meeting is held")
    with rollback_on_error(db):
        meeting.status = MeetingStatus.minutes_approved
        meeting.minutes_approved_at = utcnow()
        meeting.minutes_approved_by_id = coordinator.user_id
        _touch(db, meeting)
        for later in db.exec(
            select(WorkGroupMeeting).where(
                WorkGroupMeeting.starts_at > meeting.starts_at,
                col(WorkGroupMeeting.status).in_([MeetingStatus.draft, MeetingStatus.published]),
            )
        ):
            _carry_over(db, later, coordinator.user_id)
        _security_event(db, actor, SecurityEventTag.minutes_approved, {"meeting_id": meeting_id})
        db.commit()


# --- preparation and the meeting itself ---------------------------------------------------


def _item(db: Session, item_id: int) -> AgendaItem:
    item = db.get(AgendaItem, item_id)
    if item is None or item.removed_at is not None:
        raise MeetingNotFound("no such agenda item")
    return item


def _write_entry(
    db: Session,
    author: Viewer,
    item: AgendaItem,
    kind: ItemEntryKind,
    category: Category | None,
    body: str,
    actor: Actor,
) -> ItemEntry:
    entry = ItemEntry(
        item_id=ident(item.id),
        person_id=item.person_id,
        kind=kind,
        category=category,
        body=body,
        author_id=author.user_id,
    )
    db.add(entry)
    db.flush()
    _security_event(
        db,
        actor,
        SecurityEventTag.item_entry_written,
        {"item_id": item.id, "entry_id": entry.id, "kind": kind.value},
        person_id=item.person_id,
        categories=[category] if category else [],
    )
    return entry


def _require_seen_client(db: Session, writer: Viewer, item: AgendaItem, actor: Actor) -> None:
    """Words are written on a client item only by a member who may see that client for the
    work group: otherwise writing would tell them (or let them put on record) what the policy
    withholds. A refusal is logged (ASVS V16) with the item's number and changes nothing."""
    if item.person_id is None:
        return
    facts = gather_facts_many(db, writer, {item.person_id}, utcnow())
    seen = item.person_id in facts and decide(
        writer, facts[item.person_id], PURPOSE, policy_in_force(db)
    ).allows(Category.identity)
    if not seen:
        detail = {"action": Action.work_group_contribute.value, "item_id": item.id}
        append_refusal(db, actor, detail)
        raise WorkGroupError("you may write only about clients you can see")


def add_entry(
    db: Session,
    viewer: Viewer,
    item_id: int,
    kind: ItemEntryKind | str,
    category: Category | str | None,
    body: str,
    actor: Actor,
) -> ItemEntry:
    """A member's update on an item before the meeting (published, not yet held), or the
    coordinator's discussion note while it runs. About a client it carries the category of
    what it says and reaches only the members the policy lets see that category; any member
    may write in any category, since labelling it right is what protects it. Commits."""
    kind = ItemEntryKind(kind)
    item = _item(db, item_id)
    meeting = meeting_for(db, viewer, item.meeting_id)
    if kind == ItemEntryKind.note:
        _require_coordinator(viewer)
        if meeting.status not in _OPEN_MEETING:
            raise WorkGroupError("notes are taken while the meeting is published or being held")
    elif meeting.status != MeetingStatus.published:
        raise WorkGroupError("updates are added once the agenda is published, before the meeting")
    chosen = _category(category, item.person_id)
    text = _text(body, "update" if kind == ItemEntryKind.update else "note")
    _require_seen_client(db, viewer, item, actor)
    with rollback_on_error(db):
        entry = _write_entry(db, viewer, item, kind, chosen, text, actor)
        _touch(db, meeting)
        db.commit()
    return entry


def mark_discussed(db: Session, coordinator: Viewer, item_id: int, actor: Actor) -> None:
    """Marks an item discussed (the live agenda shows it at once). Commits."""
    _require_coordinator(coordinator)
    item = _item(db, item_id)
    meeting = meeting_for(db, coordinator, item.meeting_id)
    if meeting.status not in _OPEN_MEETING:
        raise WorkGroupError("items are discussed while the meeting runs")
    with rollback_on_error(db):
        item.discussed_at = item.discussed_at or utcnow()
        db.add(item)
        _touch(db, meeting)
        _security_event(db, actor, SecurityEventTag.agenda_changed, {"discussed": item_id})
        db.commit()


@dataclass(frozen=True)
class ActionForm:
    description: str
    assignee_id: int
    due_on: date | None
    category: Category | str | None


def add_action_item(
    db: Session, coordinator: Viewer, item_id: int, form: ActionForm, actor: Actor
) -> ActionItem:
    """An action item agreed on an item: assigned to an invited member, with a due date; about a
    client, its description has a category like an entry. Commits."""
    _require_coordinator(coordinator)
    item = _item(db, item_id)
    meeting = meeting_for(db, coordinator, item.meeting_id)
    if meeting.status not in _OPEN_MEETING:
        raise WorkGroupError("action items are agreed while the meeting runs")
    if form.assignee_id not in invitee_ids(db, item.meeting_id):
        raise WorkGroupError("assign the action to a member invited to this meeting")
    chosen = _category(form.category, item.person_id)
    _require_seen_client(db, coordinator, item, actor)
    with rollback_on_error(db):
        action = ActionItem(
            meeting_id=item.meeting_id,
            item_id=item.id,
            person_id=item.person_id,
            category=chosen,
            description=_text(form.description, "action", 1000),
            assignee_id=form.assignee_id,
            due_on=form.due_on,
            created_by_id=coordinator.user_id,
        )
        db.add(action)
        db.flush()
        _touch(db, meeting)
        _security_event(
            db,
            actor,
            SecurityEventTag.action_item_changed,
            {"action_item_id": action.id, "item_id": item_id, "status": action.status.value},
            person_id=item.person_id,
            categories=[chosen] if chosen else [],
        )
        db.commit()
    return action


def set_action_status(
    db: Session, viewer: Viewer, action_id: int, status: ActionItemStatus | str, actor: Actor
) -> None:
    """The coordinator or the assignee marks an action done, dropped or open again; every
    meeting whose agenda carries it shows the change. Commits."""
    # Ids and status only: the description is client data and is not read here.
    found = db.exec(
        select(ActionItem.assignee_id, ActionItem.meeting_id, ActionItem.person_id).where(
            ActionItem.id == action_id
        )
    ).first()
    if found is None or (viewer.role != Role.coordinator and found[0] != viewer.user_id):
        raise MeetingNotFound("no such action item")
    _, meeting_id, person_id = found
    try:
        status = ActionItemStatus(status)
    except ValueError:
        raise WorkGroupError(f"not an action status: {status}") from None
    with rollback_on_error(db):
        db.exec(
            update(ActionItem)
            .where(col(ActionItem.id) == action_id)
            .values(status=status, closed_at=None if status == ActionItemStatus.open else utcnow())
        )
        meeting_ids = {meeting_id} | set(
            db.exec(select(AgendaItem.meeting_id).where(AgendaItem.action_item_id == action_id))
        )
        for meeting in db.exec(
            select(WorkGroupMeeting).where(col(WorkGroupMeeting.id).in_(meeting_ids))
        ):
            _touch(db, meeting)
        _security_event(
            db,
            actor,
            SecurityEventTag.action_item_changed,
            {"action_item_id": action_id, "status": status.value},
            person_id=person_id,
        )
        db.commit()


def decide_from_item(
    db: Session,
    prosecutor: Viewer,
    item_id: int,
    outcome: DecisionOutcome | str,
    reason_codes: list[str],
    note: str | None,
    material_seq: int | None,
    actor: Actor,
) -> ChargingDecision:
    """A prosecutor's charging decision on the item's matter, made at the meeting: recorded by
    hub.charging.services.record_decision, which binds every disclosure about the client this
    prosecutor received since the referral (the item views among them; the one the decision was
    made from is marked material) and refuses if any held treatment or health data. Commits."""
    item = _item(db, item_id)
    meeting = meeting_for(db, prosecutor, item.meeting_id)
    if meeting.status not in _OPEN_MEETING:
        raise WorkGroupError("decisions from an agenda are made while the meeting runs")
    if item.matter_id is None:
        raise WorkGroupError("this item has no matter awaiting a filing decision")
    decision = record_decision(
        db,
        prosecutor,
        item.matter_id,
        outcome,
        reason_codes,
        note,
        [material_seq] if material_seq is not None else [],
        actor,
    )
    with rollback_on_error(db):
        fresh = db.get(WorkGroupMeeting, meeting.id)
        assert fresh is not None
        _touch(db, fresh)
        db.commit()
    return decision


def flag_for_discussion(
    db: Session,
    viewer: Viewer,
    person_id: int,
    category: Category | str,
    note: str,
    actor: Actor,
) -> DiscussionFlag:
    """A case manager or defender asks the work group to discuss a client they work with; the
    note carries its category. Commits."""
    if viewer.role not in (Role.case_manager, Role.case_manager_supervisor, Role.defender):
        raise WorkGroupError("case managers and defenders flag clients for discussion")
    facts = gather_facts_many(db, viewer, [person_id], utcnow())
    policy = policy_in_force(db)
    # A decision only, no data read: may this member name the client at the table at all?
    if person_id not in facts or not decide(viewer, facts[person_id], PURPOSE, policy).allows(
        Category.identity
    ):
        raise WorkGroupError("no such client among those you work with")
    chosen = _category(category, person_id)
    assert chosen is not None
    with rollback_on_error(db):
        flag = DiscussionFlag(
            person_id=person_id,
            category=chosen,
            note=_text(note, "reason for discussing the client", 1000),
            flagged_by_id=viewer.user_id,
        )
        db.add(flag)
        db.flush()
        _security_event(
            db,
            actor,
            SecurityEventTag.discussion_flagged,
            {"flag_id": flag.id},
            person_id=person_id,
            categories=[chosen],
        )
        db.commit()
    return flag


# --- one agenda, many views ---------------------------------------------------------------


@dataclass(frozen=True)
class AgendaEntryView:
    item: AgendaItem
    shown: DisclosedItem

    @property
    def label(self) -> str:
        if self.item.person_id is None:
            return self.item.topic or KIND_LABELS[self.item.kind]
        return KIND_LABELS[self.item.kind] if self.shown.reason_shown else "Client item"

    def entries(self, kind: ItemEntryKind) -> list[Any]:
        return [a for a in self.shown.entries if a.row.kind == kind]


@dataclass(frozen=True)
class AgendaView:
    meeting: WorkGroupMeeting
    items: list[AgendaEntryView] = field(default_factory=list)
    version: int = 0  # this viewer's version (viewer_version), for the live agenda's poll

    @property
    def part2(self) -> bool:
        return any(i.shown.part2 for i in self.items)

    @property
    def notice(self) -> str | None:
        # 42 CFR 2.32: whatever shows treatment data carries the notice.
        return REDISCLOSURE_NOTICE if self.part2 else None

    @property
    def log_seqs(self) -> list[int]:
        return [i.shown.log_seq for i in self.items if i.shown.log_seq is not None]


def _requests(db: Session, items: Sequence[AgendaItem]) -> list[ItemRequest]:
    ids = [ident(i.id) for i in items]
    entries: dict[int, list[int]] = {}
    for entry_id, item_id in db.exec(
        select(ItemEntry.id, ItemEntry.item_id)
        .where(col(ItemEntry.item_id).in_(ids))
        .order_by(col(ItemEntry.written_at), col(ItemEntry.id))
    ):
        entries.setdefault(item_id, []).append(ident(entry_id))
    actions: dict[int, list[int]] = {}
    carried = {i.action_item_id: ident(i.id) for i in items if i.action_item_id}
    for action_id, agreed_on in db.exec(
        select(ActionItem.id, ActionItem.item_id)
        .where(col(ActionItem.item_id).in_(ids) | col(ActionItem.id).in_(list(carried)))
        .order_by(col(ActionItem.id))
    ):
        target = carried.get(ident(action_id)) or agreed_on
        if target is not None:
            actions.setdefault(target, []).append(ident(action_id))
    categories = _reason_categories(db, items)
    return [
        ItemRequest(
            key=str(i.id),
            person_id=i.person_id,
            entry_ids=entries.get(ident(i.id), []),
            action_item_ids=actions.get(ident(i.id), []),
            flag_ids=[i.flag_id] if i.flag_id else (),
            reason_category=categories.get(ident(i.id)),
        )
        for i in items
    ]


def _reason_categories(db: Session, items: Sequence[AgendaItem]) -> dict[int, Category | None]:
    flag_ids = [i.flag_id for i in items if i.flag_id]
    action_ids = [i.action_item_id for i in items if i.action_item_id]
    # Each query only when some item needs it: most agendas have neither (a round trip each).
    flags: dict[int, Category] = (
        dict(
            db.exec(  # type: ignore[arg-type]
                select(DiscussionFlag.id, DiscussionFlag.category).where(
                    col(DiscussionFlag.id).in_(flag_ids)
                )
            ).all()
        )
        if flag_ids
        else {}
    )
    actions: dict[int, Category | None] = (
        dict(
            db.exec(  # type: ignore[arg-type]
                select(ActionItem.id, ActionItem.category).where(col(ActionItem.id).in_(action_ids))
            ).all()
        )
        if action_ids
        else {}
    )
    result: dict[int, Category | None] = {}
    for item in items:
        if item.flag_id:
            result[ident(item.id)] = flags.get(item.flag_id)
        elif item.action_item_id:
            result[ident(item.id)] = actions.get(item.action_item_id)
        else:
            result[ident(item.id)] = KIND_CATEGORY.get(item.kind)
    return result


def agenda_for(
    db: Session, viewer: Viewer, meeting_id: int, actor: Actor, *, view: str = "agenda"
) -> AgendaView:
    """The agenda as this member may see it: every item through the policy (purpose
    work_group), one disclosure entry per client item, committed before anything is shown."""
    meeting = meeting_for(db, viewer, meeting_id)
    if view == "minutes" and meeting.status not in (
        MeetingStatus.held,
        MeetingStatus.minutes_approved,
    ):
        raise WorkGroupError("the minutes exist once the meeting is held")
    items = _items(db, meeting_id)
    shown = disclose_items(db, viewer, _requests(db, items), PURPOSE, actor, view=view)
    by_key = {s.key: s for s in shown}
    return AgendaView(
        meeting=meeting,
        items=[AgendaEntryView(i, by_key[str(i.id)]) for i in items if str(i.id) in by_key],
        version=viewer_version(meeting, items, [s.shape for s in shown]),
    )


def print_agenda(db: Session, viewer: Viewer, meeting_id: int, actor: Actor) -> AgendaView:
    """The member's printable agenda: disclosed like the page (view "print") and its printing
    logged as a security event naming the item entries and whether the notice is on it."""
    agenda = agenda_for(db, viewer, meeting_id, actor, view="print")
    with rollback_on_error(db):
        _security_event(
            db,
            actor,
            SecurityEventTag.agenda_printed,
            {
                "meeting_id": meeting_id,
                "log_seqs": agenda.log_seqs,
                "items": len(agenda.items),
                "part2_notice": agenda.part2,
            },
        )
        db.commit()
    return agenda


def member_names(db: Session, user_ids: Sequence[int]) -> dict[int, str]:
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(list(user_ids))))
    return {ident(uid): name for uid, name in rows}
