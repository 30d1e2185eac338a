"""What members write and decide around the table: updates before the meeting, the
coordinator's notes while it runs, items marked discussed, action items and their status, a
prosecutor's charging decision on an item's matter, and a client flagged for discussion."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, append_refusal
from hub.charging.deciding import record_decision
from hub.charging.models import ChargingDecision
from hub.db import ident, rollback_on_error, utcnow
from hub.disclosure.policy import decide, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.permissions import permits
from hub.vocabulary import (
    Action,
    ActionItemStatus,
    Category,
    DecisionOutcome,
    ItemEntryKind,
    MeetingStatus,
    SecurityEventTag,
)
from hub.workgroup.access import invitee_ids, item_on, meeting_for, touch
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    ItemEntry,
    WorkGroupMeeting,
)
from hub.workgroup.rules import (
    OPEN_MEETING,
    PURPOSE,
    MeetingNotFound,
    WorkGroupError,
    checked_category,
    checked_text,
    require_coordinator,
    security_event,
)


def write_entry(
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
    security_event(
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
    item = item_on(db, item_id)
    meeting = meeting_for(db, viewer, item.meeting_id)
    if kind == ItemEntryKind.note:
        require_coordinator(viewer)
        if meeting.status not in OPEN_MEETING:
            raise WorkGroupError("notes are taken while the meeting is published or being held")
    elif meeting.status != MeetingStatus.published:
        raise WorkGroupError("updates are added once the agenda is published, before the meeting")
    chosen = checked_category(category, item.person_id)
    text = checked_text(body, "update" if kind == ItemEntryKind.update else "note")
    _require_seen_client(db, viewer, item, actor)
    with rollback_on_error(db):
        entry = write_entry(db, viewer, item, kind, chosen, text, actor)
        touch(db, meeting)
        db.commit()
    return entry


def mark_discussed(db: Session, coordinator: Viewer, item_id: int, actor: Actor) -> None:
    """Marks an item discussed (the live agenda shows it at once). Commits."""
    require_coordinator(coordinator)
    item = item_on(db, item_id)
    meeting = meeting_for(db, coordinator, item.meeting_id)
    if meeting.status not in OPEN_MEETING:
        raise WorkGroupError("items are discussed while the meeting runs")
    with rollback_on_error(db):
        item.discussed_at = item.discussed_at or utcnow()
        db.add(item)
        touch(db, meeting)
        security_event(db, actor, SecurityEventTag.agenda_changed, {"discussed": item_id})
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
    require_coordinator(coordinator)
    item = item_on(db, item_id)
    meeting = meeting_for(db, coordinator, item.meeting_id)
    if meeting.status not in OPEN_MEETING:
        raise WorkGroupError("action items are agreed while the meeting runs")
    if form.assignee_id not in invitee_ids(db, item.meeting_id):
        raise WorkGroupError("assign the action to a member invited to this meeting")
    chosen = checked_category(form.category, item.person_id)
    _require_seen_client(db, coordinator, item, actor)
    with rollback_on_error(db):
        action = ActionItem(
            meeting_id=item.meeting_id,
            item_id=item.id,
            person_id=item.person_id,
            category=chosen,
            description=checked_text(form.description, "action", 1000),
            assignee_id=form.assignee_id,
            due_on=form.due_on,
            created_by_id=coordinator.user_id,
        )
        db.add(action)
        db.flush()
        touch(db, meeting)
        security_event(
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
    if found is None or (
        not permits(viewer, Action.work_group_manage) and found[0] != viewer.user_id
    ):
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
            touch(db, meeting)
        security_event(
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
    hub.charging.deciding.record_decision, which binds every disclosure about the client this
    prosecutor received since the referral (the item views among them; the one the decision was
    made from is marked material) and refuses if any held treatment or health data. Commits."""
    item = item_on(db, item_id)
    meeting = meeting_for(db, prosecutor, item.meeting_id)
    if meeting.status not in OPEN_MEETING:
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
        touch(db, fresh)
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
    if not permits(viewer, Action.work_group_flag):
        raise WorkGroupError("case managers and defenders flag clients for discussion")
    facts = gather_facts_many(db, viewer, [person_id], utcnow())
    policy = policy_in_force(db)
    # A decision only, no data read: may this member name the client at the table at all?
    if person_id not in facts or not decide(viewer, facts[person_id], PURPOSE, policy).allows(
        Category.identity
    ):
        raise WorkGroupError("no such client among those you work with")
    chosen = checked_category(category, person_id)
    assert chosen is not None
    with rollback_on_error(db):
        flag = DiscussionFlag(
            person_id=person_id,
            category=chosen,
            note=checked_text(note, "reason for discussing the client", 1000),
            flagged_by_id=viewer.user_id,
        )
        db.add(flag)
        db.flush()
        security_event(
            db,
            actor,
            SecurityEventTag.discussion_flagged,
            {"flag_id": flag.id},
            person_id=person_id,
            categories=[chosen],
        )
        db.commit()
    return flag
