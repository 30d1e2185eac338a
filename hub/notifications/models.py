from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import NotificationKind


class Notification(SQLModel, table=True):
    """A note to one user. Its text is fixed per kind and carries no personal data; the link
    names an object by id, and the page it opens goes through the policy layer."""

    __tablename__ = "notification"
    # The same event notifies a user once, however often a sweep runs.
    __table_args__ = (UniqueConstraint("user_id", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: NotificationKind = Field(sa_column=enum_column(NotificationKind, nullable=False))
    text: str = Field(max_length=200)
    link: str | None = Field(default=None, max_length=200)
    dedupe_key: str = Field(max_length=100)
    created_at: datetime = utc_field(default_factory=utcnow)
    read_at: datetime | None = utc_field(default=None)
