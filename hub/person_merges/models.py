"""A merge of two records of one person: requested by one case-management supervisor, done
when a second person confirms it. The merged record stays as a tombstone pointing to the
survivor, so both numbers stay findable in the log and the accounting of disclosures."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import MergeStatus


class PersonMerge(SQLModel, table=True):
    """identity: which record was merged into which, who asked, who confirmed."""

    __tablename__ = "person_merge"

    id: int | None = Field(default=None, primary_key=True)
    merged_person_id: int = Field(foreign_key="person.id", index=True)
    survivor_id: int = Field(foreign_key="person.id", index=True)
    status: MergeStatus = Field(
        default=MergeStatus.pending, sa_column=enum_column(MergeStatus, nullable=False)
    )
    requested_by_id: int = Field(foreign_key="user.id")
    requested_at: datetime = utc_field(default_factory=utcnow)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = utc_field(default=None)
