from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, utc_field, utcnow


class ResearchProtocol(SQLModel, table=True):
    """An approved study: its IRB approval, data-use agreement, recipient, approval period and
    the variables it may receive. Recorded by the program office or a privacy officer and in
    force only once another privacy officer confirms it (no one widens access alone, AC-5)."""

    __tablename__ = "research_protocol"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    irb_number: str = Field(max_length=100)
    data_use_agreement: str = Field(max_length=200)
    recipient_name: str = Field(max_length=200)
    recipient_organisation: str = Field(max_length=200)
    approved_from: date
    expires_on: date
    # Names from hub.research.variables.VARIABLES: nothing else can ever be exported.
    variables: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    # 42 CFR 2.52: the program director's determination that the research conditions are met
    # (who determined it and their words); without it no treatment variable is exported.
    part2_conditions_met: bool = Field(default=False)
    part2_determined_by: str | None = Field(default=None, max_length=200)
    part2_determination: str | None = Field(default=None, max_length=1000)
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id")
    confirmed_at: datetime | None = utc_field(default=None)
