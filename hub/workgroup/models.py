"""Operational work groups: meetings (one-off or from a recurring series), their agendas, the
updates and discussion notes on each item, action items, and clients flagged for discussion.

Everything a member writes about a client carries a disclosure category and is client data of
that category: it is sealed at rest, as case notes are, and reaches a member only through
hub.disclosure.items, by the same decision as the record's category.
"""

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import (
    ActionItemStatus,
    AgendaItemKind,
    Category,
    DismissalReason,
    ItemEntryKind,
    MeetingStatus,
)


class MeetingSeries(SQLModel, table=True):
    """A recurring meeting, e.g. every other Tuesday at 10:00: each new meeting is the last one
    plus `interval_days`, at the same local time, with the same invitees."""

    __tablename__ = "meeting_series"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    interval_days: int = Field(default=14)
    place: str | None = Field(default=None, max_length=200)
    call_link: str | None = Field(default=None, max_length=500)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    ended_at: datetime | None = utc_field(default=None)


class WorkGroupMeeting(SQLModel, table=True):
    __tablename__ = "work_group_meeting"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    starts_at: datetime = utc_field(index=True)
    place: str | None = Field(default=None, max_length=200)
    call_link: str | None = Field(default=None, max_length=500)
    status: MeetingStatus = Field(
        default=MeetingStatus.draft, sa_column=enum_column(MeetingStatus, nullable=False)
    )
    series: str | None = Field(default=None, max_length=100)  # e.g. "every other Tuesday"
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    series_id: int | None = Field(default=None, foreign_key="meeting_series.id", index=True)
    # Bumped by every change a member could see (items, entries, action items, status): the
    # live agenda polls this number, which carries no client data.
    version: int = Field(default=0)
    published_at: datetime | None = utc_field(default=None)
    held_at: datetime | None = utc_field(default=None)
    minutes_approved_at: datetime | None = utc_field(default=None)
    minutes_approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The member who keeps the minutes, one of those who attended.
    recorder_id: int | None = Field(default=None, foreign_key="user.id")


class MeetingInvitee(SQLModel, table=True):
    __tablename__ = "meeting_invitee"

    meeting_id: int = Field(foreign_key="work_group_meeting.id", primary_key=True)
    # Indexed on its own too: a member's meeting list asks by user (the key leads by meeting).
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    # None until the coordinator records attendance, then whether they came.
    attended: bool | None = Field(default=None)


class AgendaItem(SQLModel, table=True):
    """One item of an agenda. It holds ids and the item's own fields only; a client item's
    content is read through the policy layer for each member who opens it. `topic` is for
    program business with no client (a client item's words go in its entries, by category)."""

    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="work_group_meeting.id", index=True)
    position: int = Field(default=0)
    kind: AgendaItemKind = Field(sa_column=enum_column(AgendaItemKind, nullable=False))
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    matter_id: int | None = Field(default=None, foreign_key="charging_matter.id")
    flag_id: int | None = Field(default=None, foreign_key="discussion_flag.id")
    action_item_id: int | None = Field(default=None, foreign_key="action_item.id")
    topic: str | None = Field(default=None, max_length=200)
    added_by_id: int = Field(foreign_key="user.id")
    added_at: datetime = utc_field(default_factory=utcnow)
    discussed_at: datetime | None = utc_field(default=None)
    removed_at: datetime | None = utc_field(default=None)


class ItemEntry(SQLModel, table=True):
    """A member's update before the meeting or the coordinator's discussion note during it.
    About a client, it has the category of what it says (42 CFR Part 2: a treatment entry keeps
    that label into notes, minutes and printouts); on a business item, no category."""

    __tablename__ = "item_entry"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="agenda_item.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    kind: ItemEntryKind = Field(sa_column=enum_column(ItemEntryKind, nullable=False))
    category: Category | None = Field(default=None, sa_column=enum_column(Category, nullable=True))
    body: str = Field(sa_column=Column(EncryptedText, nullable=False))
    author_id: int = Field(foreign_key="user.id")
    written_at: datetime = utc_field(default_factory=utcnow)


class ActionItem(SQLModel, table=True):
    """Agreed at a meeting; carried onto every next agenda until it is done or dropped. About a
    client, its description has a category like an entry."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="work_group_meeting.id", index=True)
    # The item it was agreed on (no foreign key: agenda_item points here for carried items).
    item_id: int | None = Field(default=None)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    category: Category | None = Field(default=None, sa_column=enum_column(Category, nullable=True))
    description: str = Field(sa_column=Column(EncryptedText, nullable=False))
    assignee_id: int = Field(foreign_key="user.id")
    due_on: date | None = Field(default=None)
    status: ActionItemStatus = Field(
        default=ActionItemStatus.open, sa_column=enum_column(ActionItemStatus, nullable=False)
    )
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    closed_at: datetime | None = utc_field(default=None)


class DiscussionFlag(SQLModel, table=True):
    """A case manager's or defender's request to discuss a client at the next meeting; the
    note is client data of its category. Taken up when the coordinator puts it on an agenda."""

    __tablename__ = "discussion_flag"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    category: Category = Field(sa_column=enum_column(Category, nullable=False))
    note: str = Field(sa_column=Column(EncryptedText, nullable=False))
    flagged_by_id: int = Field(foreign_key="user.id")
    flagged_at: datetime = utc_field(default_factory=utcnow)
    taken_up_at: datetime | None = utc_field(default=None)


class ProposalDismissal(SQLModel, table=True):
    """The coordinator's "not for this agenda" on a proposal, with a reason: that proposal is not
    proposed again until the dismissal is undone. `proposal_key` holds ids only (the kind, the
    client, the referral, matter or flag, and the occasion: the deadline or the last contact),
    so a new miss, arrest or absence is another proposal and comes up."""

    __tablename__ = "proposal_dismissal"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="work_group_meeting.id", index=True)
    proposal_key: str = Field(max_length=200, index=True)
    reason: DismissalReason = Field(sa_column=enum_column(DismissalReason, nullable=False))
    # Program business, but typed by a person: sealed like what members write, never logged.
    note: str | None = Field(default=None, sa_column=Column(EncryptedText, nullable=True))
    dismissed_by_id: int = Field(foreign_key="user.id")
    dismissed_at: datetime = utc_field(default_factory=utcnow)
    undone_at: datetime | None = utc_field(default=None)
    undone_by_id: int | None = Field(default=None, foreign_key="user.id")
