from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import FlagRule, FlagStatus


class ReviewFlag(SQLModel, table=True):
    """Log entries a privacy officer should look at, and why (CJIS AU-6: review). Computed from
    the log by hub.privacy.flags; `key` groups the findings of one rule about one subject (one
    user's day, one entry), so recomputing changes nothing that is already flagged."""

    __tablename__ = "review_flag"

    id: int | None = Field(default=None, primary_key=True)
    rule: FlagRule = Field(sa_column=enum_column(FlagRule, nullable=False))
    key: str = Field(max_length=200, index=True)
    # Whom the flag is about: the user whose activity it is, and the client, where there is one.
    # Ids as the log holds them (no foreign keys, as in log_entry: the log names what it saw).
    subject_user_id: int | None = Field(default=None, index=True)
    person_id: int | None = Field(default=None, index=True)
    # The site-local day the activity happened on.
    day: date | None = Field(default=None)
    reason: str = Field(max_length=1000)
    log_seqs: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    status: FlagStatus = Field(
        default=FlagStatus.open, sa_column=enum_column(FlagStatus, nullable=False)
    )
    created_at: datetime = utc_field(default_factory=utcnow)
    updated_at: datetime = utc_field(default_factory=utcnow)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = utc_field(default=None)
    review_note: str | None = Field(default=None, max_length=2000)
