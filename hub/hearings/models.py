from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import HearingChange, HearingKind


class CourtHearing(SQLModel, table=True):
    """legal category: a court date on a charging matter, as it stands now (its history is in
    court_hearing_change). Set by the matter's office or the client's defender."""

    __tablename__ = "court_hearing"

    id: int | None = Field(default=None, primary_key=True)
    matter_id: int = Field(foreign_key="charging_matter.id", index=True)
    kind: HearingKind = Field(sa_column=enum_column(HearingKind, nullable=False))
    starts_at: datetime = utc_field(index=True)
    courtroom: str = Field(max_length=100)
    cancelled_at: datetime | None = utc_field(default=None)
    set_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)


class CourtHearingChange(SQLModel, table=True):
    """legal category: one step in a court date's history (set, moved, cancelled): who, when,
    and the date and courtroom it then held. Rows are only ever added."""

    __tablename__ = "court_hearing_change"

    id: int | None = Field(default=None, primary_key=True)
    hearing_id: int = Field(foreign_key="court_hearing.id", index=True)
    change: HearingChange = Field(sa_column=enum_column(HearingChange, nullable=False))
    kind: HearingKind = Field(sa_column=enum_column(HearingKind, nullable=False))
    starts_at: datetime = utc_field()
    courtroom: str = Field(max_length=100)
    changed_by_id: int = Field(foreign_key="user.id")
    changed_at: datetime = utc_field(default_factory=utcnow)
