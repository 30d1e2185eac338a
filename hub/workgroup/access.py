"""Who may open which meeting and item, and the agenda's rows as stored: a meeting for its
coordinator or, once published, its invitees; the items in order; appending an item (and
carrying open action items over) bumps the meeting's version for the live agenda."""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.db import ident
from hub.permissions import permits
from hub.vocabulary import (
    Action,
    ActionItemStatus,
    AgendaItemKind,
    MeetingStatus,
)
from hub.workgroup.models import (
    ActionItem,
    AgendaItem,
    DiscussionFlag,
    MeetingInvitee,
    WorkGroupMeeting,
)
from hub.workgroup.rules import MeetingNotFound, WorkGroupError, require_coordinator


def invitee_ids(db: Session, meeting_id: int) -> list[int]:
    return list(
        db.exec(select(MeetingInvitee.user_id).where(MeetingInvitee.meeting_id == meeting_id))
    )


def meetings_for(db: Session, viewer: Viewer) -> list[WorkGroupMeeting]:
    """The coordinator's every meeting; a member's meetings they are invited to, once
    published. Newest first."""
    query = select(WorkGroupMeeting)
    if not permits(viewer, Action.work_group_manage):
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
    if permits(viewer, Action.work_group_manage):
        return meeting
    invited = db.get(MeetingInvitee, (meeting_id, viewer.user_id)) is not None
    if not invited or meeting.status == MeetingStatus.draft:
        raise MeetingNotFound("no such meeting")
    return meeting


def items_on(db: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        db.exec(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, col(AgendaItem.removed_at).is_(None))
            .order_by(col(AgendaItem.position), col(AgendaItem.id))
        )
    )


def item_on(db: Session, item_id: int) -> AgendaItem:
    item = db.get(AgendaItem, item_id)
    if item is None or item.removed_at is not None:
        raise MeetingNotFound("no such agenda item")
    return item


def open_draft(db: Session, coordinator: Viewer, meeting_id: int) -> WorkGroupMeeting:
    require_coordinator(coordinator)
    meeting = meeting_for(db, coordinator, meeting_id)
    if meeting.status not in (MeetingStatus.draft, MeetingStatus.published):
        raise WorkGroupError("the meeting was held: its agenda is closed")
    return meeting


def touch(db: Session, meeting: WorkGroupMeeting) -> None:
    meeting.version += 1
    db.add(meeting)


def append_item(db: Session, meeting: WorkGroupMeeting, item: AgendaItem) -> AgendaItem:
    positions = [i.position for i in items_on(db, ident(meeting.id))]
    item.position = max(positions, default=0) + 1
    db.add(item)
    db.flush()
    touch(db, meeting)
    return item


def carry_over(db: Session, meeting: WorkGroupMeeting, added_by_id: int) -> int:
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
        append_item(
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


def take_up(db: Session, flag_id: int, at: datetime | None) -> None:
    # An UPDATE of the one column: the flag's note is client data and is not read here.
    db.exec(update(DiscussionFlag).where(col(DiscussionFlag.id) == flag_id).values(taken_up_at=at))
