from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import DecisionOutcome


class ChargingMatter(SQLModel, table=True):
    """legal category: an arrest awaiting a filing decision by the office it was forwarded to."""

    __tablename__ = "charging_matter"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    prosecuting_agency_id: int = Field(foreign_key="agency.id", index=True)
    offense_tracking_number: str = Field(max_length=40, unique=True)
    offenses: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    arrested_at: datetime = utc_field()
    court_date: date | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)


class ChargingDecision(SQLModel, table=True):
    """Immutable: a correction is a new decision that supersedes this one."""

    __tablename__ = "charging_decision"

    id: int | None = Field(default=None, primary_key=True)
    matter_id: int = Field(foreign_key="charging_matter.id", index=True)
    decided_by_id: int = Field(foreign_key="user.id")
    decided_at: datetime = utc_field(default_factory=utcnow)
    outcome: DecisionOutcome = Field(sa_column=enum_column(DecisionOutcome, nullable=False))
    reason_codes: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    note: str | None = Field(default=None, max_length=2000)
    supersedes_id: int | None = Field(default=None, foreign_key="charging_decision.id")
    # The signed tree head of the disclosure log when the decision was recorded.
    tree_head_id: int | None = Field(default=None, foreign_key="tree_head.id")


class DecisionDisclosure(SQLModel, table=True):
    """One disclosure-log entry that the deciding prosecutor had received about the client."""

    __tablename__ = "decision_disclosure"

    decision_id: int = Field(foreign_key="charging_decision.id", primary_key=True)
    log_seq: int = Field(foreign_key="log_entry.seq", primary_key=True)
    material: bool = Field(default=False)
