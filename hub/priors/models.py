from datetime import date, datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import PriorSource, WarrantStatus


class PriorMatter(SQLModel, table=True):
    """legal category: a court matter of the client's from before (or outside) the program, as
    the prosecutor's case system knows it."""

    __tablename__ = "prior_matter"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    case_number: str = Field(max_length=40)
    court: str = Field(max_length=120)
    offense_code: str = Field(max_length=40)
    offense_description: str = Field(max_length=200)
    level: str = Field(max_length=40)
    filed_on: date
    disposed_on: date | None = Field(default=None)
    disposition: str | None = Field(default=None, max_length=120)
    source: PriorSource = Field(sa_column=enum_column(PriorSource, nullable=False))
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)


class Warrant(SQLModel, table=True):
    """legal category: a warrant naming the client."""

    __tablename__ = "warrant"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    issued_on: date
    court: str = Field(max_length=120)
    kind: str = Field(max_length=60)
    status: WarrantStatus = Field(sa_column=enum_column(WarrantStatus, nullable=False))
    source: PriorSource = Field(sa_column=enum_column(PriorSource, nullable=False))
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)
