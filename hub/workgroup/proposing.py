"""Proposals for a draft agenda, computed from ids, dates and statuses only (never a name or
an offense): new referrals, intake deadlines, new arrests awaiting a decision, flags, clients
not seen; shown to the coordinator through the policy, and put on the agenda when chosen."""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.charging.models import ChargingMatter
from hub.clients.models import Person
from hub.db import ident, rollback_on_error, utcnow
from hub.disclosure.items import (
    DisclosedItem,
    ItemRequest,
    disclose_items,
)
from hub.referrals.intake_clock import deadline_status
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.rules import SiteRules, current_rules
from hub.settings import get_settings
from hub.vocabulary import (
    AgendaItemKind,
    DeadlineStatus,
    DecisionOutcome,
    MeetingStatus,
    ProgramStatus,
    SecurityEventTag,
)
from hub.workgroup.access import append_item, items_on, meeting_for, open_draft, take_up
from hub.workgroup.models import (
    AgendaItem,
    DiscussionFlag,
    WorkGroupMeeting,
)
from hub.workgroup.rules import (
    KIND_CATEGORY,
    PURPOSE,
    WorkGroupError,
    not_seen_days,
    require_coordinator,
    security_event,
)

_PARTICIPANT_STATUSES = (
    ProgramStatus.enrolled,
    ProgramStatus.active,
    ProgramStatus.not_engaged,
    ProgramStatus.re_engaged,
)


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


def _previous_start(db: Session, meeting: WorkGroupMeeting) -> datetime | None:
    return db.exec(
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


def compute_proposals(
    db: Session, meeting: WorkGroupMeeting, today: date, *, rules: SiteRules | None = None
) -> list[Proposal]:
    """Candidate items from the data since the previous meeting: new referrals, intake
    deadlines near or missed since then, new arrests awaiting a filing decision, open discussion
    flags, participants who went unseen for the site's number of days since then; those already
    on the agenda are left out. Reads ids, dates and statuses only.

    A miss or an unseen participant is news once: the meeting after it happened hears of it, the
    ones after do not again (issue 17: a draft of 152 proposals, most of them misses of years
    ago, fits no meeting); older misses stay on the intake queue's own tab. The first meeting
    hears of all of them, and a participant no one has ever reached comes up every time."""
    rules = rules or current_rules(db)
    previous = _previous_start(db, meeting)
    since = previous or meeting.starts_at - timedelta(days=14)
    since_day = previous.astimezone(rules.tz).date() if previous else date.min
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
        missed_since = status == DeadlineStatus.missed and referral.intake_due_on >= since_day
        if not done and (status == DeadlineStatus.near or missed_since):
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
    unseen_days = timedelta(days=not_seen_days(db))
    cutoff = today - unseen_days
    unseen = col(Person.last_contact_on) < cutoff
    if previous:  # since the last meeting: last seen after the day that made one unseen by then
        unseen &= col(Person.last_contact_on) >= since_day - unseen_days
    for person_id in db.exec(
        select(Person.id)
        .where(
            col(Person.program_status).in_(_PARTICIPANT_STATUSES),
            unseen | col(Person.last_contact_on).is_(None),
        )
        .order_by(col(Person.id))
    ):
        proposals.append(Proposal(AgendaItemKind.not_seen, ident(person_id)))
    on_agenda = {p.key for p in _item_proposals(items_on(db, ident(meeting.id)))}
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
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    proposals = compute_proposals(db, meeting, today)
    shown = disclose_items(
        db, coordinator, proposal_requests(proposals), PURPOSE, actor, view="proposal"
    )
    by_key = {s.key: s for s in shown}
    return [(p, by_key[p.key]) for p in proposals if p.key in by_key]


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
    meeting = open_draft(db, coordinator, meeting_id)
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
            item = append_item(
                db,
                meeting,
                AgendaItem(
                    meeting_id=ident(meeting.id),
                    kind=p.kind,
                    person_id=p.person_id,
                    referral_id=p.referral_id,
                    matter_id=p.matter_id or awaiting_matter(db, p.person_id),
                    flag_id=p.flag_id,
                    added_by_id=coordinator.user_id,
                ),
            )
            if p.flag_id:
                take_up(db, p.flag_id, utcnow())
            added.append(item)
        security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting.id, "added": [i.id for i in added]},
        )
        db.commit()
    return added


def awaiting_matter(db: Session, person_id: int) -> int | None:
    """A client's matter awaiting a filing decision, so a prosecutor can decide from the item."""
    matters = list(db.exec(select(ChargingMatter).where(ChargingMatter.person_id == person_id)))
    standing = current_decisions(db, [ident(m.id) for m in matters])
    for matter in sorted(matters, key=lambda m: m.arrested_at, reverse=True):
        decision = standing.get(ident(matter.id))
        if decision is None or decision.outcome == DecisionOutcome.more_information:
            return matter.id
    return None
