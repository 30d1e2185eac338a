from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import MeetingStatus


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


class MeetingInvitee(SQLModel, table=True):
    __tablename__ = "meeting_invitee"

    meeting_id: int = Field(foreign_key="work_group_meeting.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
