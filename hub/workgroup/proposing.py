"""Proposals for a draft agenda, computed from ids, dates and statuses only (never a name or
an offense): new referrals, intake deadlines, new arrests awaiting a decision, flags, clients
not seen; shown to the coordinator through the policy, grouped by reason within what the policy
lets the coordinator see, put on the agenda when chosen, or dismissed with a reason."""

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
    item_shapes,
)
from hub.referrals.intake_clock import clock_status
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.rules import SiteRules, current_rules
from hub.settings import get_settings
from hub.vocabulary import (
    AgendaItemKind,
    DeadlineStatus,
    DecisionOutcome,
    DismissalReason,
    MeetingStatus,
    ProgramStatus,
    SecurityEventTag,
)
from hub.workgroup.access import append_item, items_on, meeting_for, open_draft, take_up
from hub.workgroup.models import (
    AgendaItem,
    DiscussionFlag,
    ProposalDismissal,
    WorkGroupMeeting,
)
from hub.workgroup.rules import (
    DISMISSAL_NOTE_MAX,
    GROUP_LABELS,
    KIND_CATEGORY,
    PURPOSE,
    ProposalGroup,
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
    # What made it news this time (a deadline near or missed on a date, the last contact):
    # not part of `key`, which names the item, but of what a dismissal keeps proposing away.
    occasion: str = field(default="", compare=False)

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

    @property
    def dismissal_key(self) -> str:
        """What a dismissal holds: the item and its occasion, so that a new miss of a changed
        deadline, or an absence after a contact, is proposed again."""
        return f"{self.key}@{self.occasion}" if self.occasion else self.key


@dataclass(frozen=True, slots=True)
class _MatterDates:
    id: int
    person_id: int
    referral_id: int | None
    arrested_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _ReferralDates:
    id: int
    person_id: int
    referred_at: datetime
    intake_due_on: date
    screening_done_at: datetime | None
    intake_done_at: datetime | None


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


def candidates(
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
    # Only the columns the proposals need: ids, dates and statuses, never offenses or names;
    # as plain rows (a model_construct per row inspected every field's default: 0.2 s a draft).
    matters = [
        _MatterDates(*row)
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
    standing = current_decisions(db, [m.id for m in matters])
    awaiting = {
        m.id: m
        for m in matters
        if (d := standing.get(m.id)) is None or d.outcome == DecisionOutcome.more_information
    }
    matter_of_referral = {m.referral_id: m.id for m in awaiting.values() if m.referral_id}
    referrals = [
        _ReferralDates(*row)
        for row in db.exec(
            select(  # type: ignore[call-overload]
                Referral.id,
                Referral.person_id,
                Referral.referred_at,
                Referral.intake_due_on,
                Referral.screening_done_at,
                Referral.intake_done_at,
            )
            # A referral its officer withdrew as made in error is nothing to discuss.
            .where(col(Referral.withdrawn_at).is_(None))
            .order_by(col(Referral.referred_at))
        )
    ]
    for referral in referrals:
        if referral.referred_at >= since:
            proposals.append(
                Proposal(
                    AgendaItemKind.new_referral,
                    referral.person_id,
                    referral_id=referral.id,
                    matter_id=matter_of_referral.get(referral.id),
                )
            )
        done = referral.screening_done_at is not None and referral.intake_done_at is not None
        status = clock_status(
            referral.intake_due_on,
            referral.screening_done_at,
            referral.intake_done_at,
            today,
            tz=rules.tz,
        )
        missed_since = status == DeadlineStatus.missed and referral.intake_due_on >= since_day
        if not done and (status == DeadlineStatus.near or missed_since):
            proposals.append(
                Proposal(
                    AgendaItemKind.intake_deadline,
                    referral.person_id,
                    referral_id=referral.id,
                    matter_id=matter_of_referral.get(referral.id),
                    occasion=f"{status.value}:{referral.intake_due_on.isoformat()}",
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
    for person_id, last_contact in db.exec(
        select(col(Person.id), col(Person.last_contact_on))
        .where(
            col(Person.program_status).in_(_PARTICIPANT_STATUSES),
            unseen | col(Person.last_contact_on).is_(None),
        )
        .order_by(col(Person.id))
    ):
        last = last_contact.isoformat() if last_contact else "never"
        proposals.append(Proposal(AgendaItemKind.not_seen, ident(person_id), occasion=last))
    on_agenda = {p.key for p in _item_proposals(items_on(db, ident(meeting.id)))}
    return [p for p in proposals if p.key not in on_agenda]


def compute_proposals(
    db: Session, meeting: WorkGroupMeeting, today: date, *, rules: SiteRules | None = None
) -> list[Proposal]:
    """Candidate items from the data since the previous meeting (`candidates`), less those
    the coordinator dismissed. Reads ids, dates and statuses only."""
    found = candidates(db, meeting, today, rules=rules)
    dismissed = _active_dismissals(db, found)
    return [p for p in found if p.dismissal_key not in dismissed]


def _active_dismissals(db: Session, found: Sequence[Proposal]) -> dict[str, ProposalDismissal]:
    keys = sorted({p.dismissal_key for p in found})
    if not keys:
        return {}
    rows = db.exec(
        select(ProposalDismissal)
        .where(
            col(ProposalDismissal.proposal_key).in_(keys),
            col(ProposalDismissal.undone_at).is_(None),
        )
        .order_by(col(ProposalDismissal.id))
    )
    return {d.proposal_key: d for d in rows}


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


@dataclass(frozen=True)
class ProposalGroupView:
    """One reason's proposals as the coordinator may see them: `count` always, `proposals`
    (disclosed and logged) only when the group is shown."""

    group: ProposalGroup
    label: str
    count: int
    proposals: list[tuple[Proposal, DisclosedItem]] = field(default_factory=list)


@dataclass(frozen=True)
class DismissedProposal:
    dismissal: ProposalDismissal
    proposal: Proposal
    shown: DisclosedItem


@dataclass(frozen=True)
class ProposalsView:
    """The draft's proposals in groups, the reason the coordinator filtered on (None: all), and
    the dismissed ones: counted always, shown (disclosed) only when asked for."""

    groups: list[ProposalGroupView]
    chosen: ProposalGroup | None = None
    dismissed_count: int = 0
    dismissed: list[DismissedProposal] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[Proposal, DisclosedItem]]:
        """The proposals shown, group by group."""
        return (pair for g in self.groups for pair in g.proposals)

    @property
    def shown(self) -> list[DisclosedItem]:
        return [s for _, s in self] + [d.shown for d in self.dismissed]

    @property
    def count(self) -> int:
        return sum(g.count for g in self.groups)


def group_of(proposal: Proposal, reason_shown: bool) -> ProposalGroup:
    """A proposal's group: its reason, if the policy lets the coordinator see it; otherwise
    `other`, which tells nothing of the kind."""
    return ProposalGroup(proposal.kind.value) if reason_shown else ProposalGroup.other


def _in_groups(
    proposals: Sequence[Proposal], reason_shown: dict[str, bool]
) -> dict[ProposalGroup, list[Proposal]]:
    """The proposals by the group the coordinator may see them in; one the policy left out
    (its client not on file) is in none."""
    groups: dict[ProposalGroup, list[Proposal]] = {}
    for p in proposals:
        if p.key in reason_shown:
            groups.setdefault(group_of(p, reason_shown[p.key]), []).append(p)
    # Within "other", by the opaque token: the computed order would hint at the kinds.
    if ProposalGroup.other in groups:
        groups[ProposalGroup.other].sort(key=lambda p: p.token)
    return groups


def _grouped(
    db: Session, coordinator: Viewer, proposals: Sequence[Proposal]
) -> dict[ProposalGroup, list[Proposal]]:
    """The proposals in groups, deciding only: nothing read, nothing logged."""
    shapes = item_shapes(db, coordinator, proposal_requests(proposals), PURPOSE)
    return _in_groups(proposals, {s.key: s.reason_shown for s in shapes})


def show_proposals(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    actor: Actor,
    today: date,
    *,
    group: ProposalGroup | None = None,
    with_dismissed: bool = False,
) -> ProposalsView:
    """The proposals for a draft agenda, grouped by reason within what the policy lets the
    coordinator see, each group counted; the chosen group's (or every group's) proposals and,
    when asked for, the dismissed ones are shown through the policy (purpose work_group) and
    logged like any item view. Nothing else is disclosed."""
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    found = candidates(db, meeting, today)
    dismissals = _active_dismissals(db, found)
    open_ones = [p for p in found if p.dismissal_key not in dismissals]
    dismissed = [p for p in found if p.dismissal_key in dismissals] if with_dismissed else []
    if group is None:
        # Every group is shown: the disclosure's own decisions group them.
        shown = _disclose(db, coordinator, [*open_ones, *dismissed], actor)
        grouped = _in_groups(open_ones, {k: s.reason_shown for k, s in shown.items()})
    else:
        # One group is shown: decide for all to count them, disclose only that group.
        grouped = _grouped(db, coordinator, open_ones)
        shown = _disclose(db, coordinator, [*grouped.get(group, []), *dismissed], actor)
    return ProposalsView(
        groups=[
            ProposalGroupView(
                g,
                GROUP_LABELS[g],
                len(grouped[g]),
                [(p, shown[p.key]) for p in grouped[g] if p.key in shown],
            )
            for g in ProposalGroup
            if g in grouped
        ],
        chosen=group,
        dismissed_count=sum(1 for p in found if p.dismissal_key in dismissals),
        dismissed=[
            DismissedProposal(dismissals[p.dismissal_key], p, shown[p.key])
            for p in dismissed
            if p.key in shown
        ],
    )


def _disclose(
    db: Session, coordinator: Viewer, proposals: Sequence[Proposal], actor: Actor
) -> dict[str, DisclosedItem]:
    requests = proposal_requests(proposals)
    shown = disclose_items(db, coordinator, requests, PURPOSE, actor, view="proposal")
    return {s.key: s for s in shown}


def add_proposed_items(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    keys: Sequence[str],
    actor: Actor,
    today: date,
) -> list[AgendaItem]:
    """Puts the chosen proposals on the agenda. Only keys of proposals computed now are
    accepted (no item for a client the data does not propose, nor a dismissed one). Commits."""
    meeting = open_draft(db, coordinator, meeting_id)
    computed = compute_proposals(db, meeting, today)
    # The form sends each proposal's token; a key (services, tests) is accepted alike.
    proposals = {p.key: p for p in computed} | {p.token: p for p in computed}
    unknown = [k for k in keys if k not in proposals]
    if unknown or not keys:
        raise WorkGroupError("choose proposals from the list (it may have changed: reload it)")
    chosen = [proposals[key] for key in dict.fromkeys(proposals[k].key for k in keys)]
    return _add(db, coordinator, meeting, chosen, actor)


def add_proposal_group(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    group: ProposalGroup | str,
    actor: Actor,
    today: date,
) -> list[AgendaItem]:
    """Puts every proposal of one group (as the coordinator sees the groups) on the agenda.
    Commits."""
    try:
        group = ProposalGroup(group)
    except ValueError:
        raise WorkGroupError("choose a group of proposals from the list") from None
    meeting = open_draft(db, coordinator, meeting_id)
    chosen = _grouped(db, coordinator, compute_proposals(db, meeting, today)).get(group, [])
    if not chosen:
        raise WorkGroupError("no proposals left in that group (the list may have changed)")
    return _add(db, coordinator, meeting, chosen, actor)


def _add(
    db: Session,
    coordinator: Viewer,
    meeting: WorkGroupMeeting,
    chosen: Sequence[Proposal],
    actor: Actor,
) -> list[AgendaItem]:
    added = []
    with rollback_on_error(db):
        for p in chosen:
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


def dismiss_proposal(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    key: str,
    reason: DismissalReason | str,
    note: str | None,
    actor: Actor,
    today: date,
) -> ProposalDismissal:
    """Leaves a proposal off this and later drafts, with a reason from the closed list and an
    optional note (program business). Logged with the proposal's opaque token and the reason's
    code; the note is kept sealed, not logged. Commits."""
    meeting = open_draft(db, coordinator, meeting_id)
    try:
        reason = DismissalReason(reason)
    except ValueError:
        raise WorkGroupError("choose why the proposal is dismissed") from None
    note = (note or "").strip() or None
    if note and len(note) > DISMISSAL_NOTE_MAX:
        raise WorkGroupError(f"keep the note under {DISMISSAL_NOTE_MAX} characters")
    computed = compute_proposals(db, meeting, today)
    proposal = next((p for p in computed if key in (p.key, p.token)), None)
    if proposal is None:
        raise WorkGroupError("choose a proposal from the list (it may have changed: reload it)")
    with rollback_on_error(db):
        dismissal = ProposalDismissal(
            meeting_id=ident(meeting.id),
            proposal_key=proposal.dismissal_key,
            reason=reason,
            note=note,
            dismissed_by_id=coordinator.user_id,
        )
        db.add(dismissal)
        db.flush()
        security_event(
            db,
            actor,
            SecurityEventTag.proposal_dismissed,
            {
                "meeting_id": meeting.id,
                "dismissal_id": dismissal.id,
                "proposal": proposal.token,
                "reason": reason.value,
            },
        )
        db.commit()
    return dismissal


def restore_proposal(
    db: Session, coordinator: Viewer, dismissal_id: int, actor: Actor
) -> ProposalDismissal:
    """Undoes a dismissal: the proposal comes up again while the data still proposes it.
    Commits."""
    require_coordinator(coordinator)
    dismissal = db.get(ProposalDismissal, dismissal_id)
    if dismissal is None or dismissal.undone_at is not None:
        raise WorkGroupError("no such dismissal (it may have been undone already)")
    with rollback_on_error(db):
        dismissal.undone_at = utcnow()
        dismissal.undone_by_id = coordinator.user_id
        db.add(dismissal)
        security_event(
            db,
            actor,
            SecurityEventTag.proposal_restored,
            {"meeting_id": dismissal.meeting_id, "dismissal_id": dismissal.id},
        )
        db.commit()
    return dismissal


def awaiting_matter(db: Session, person_id: int) -> int | None:
    """A client's matter awaiting a filing decision, so a prosecutor can decide from the item."""
    matters = list(db.exec(select(ChargingMatter).where(ChargingMatter.person_id == person_id)))
    standing = current_decisions(db, [ident(m.id) for m in matters])
    for matter in sorted(matters, key=lambda m: m.arrested_at, reverse=True):
        decision = standing.get(ident(matter.id))
        if decision is None or decision.outcome == DecisionOutcome.more_information:
            return matter.id
    return None
