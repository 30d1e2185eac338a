from datetime import date, datetime

from sqlalchemy import Column, Index, event
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import DecisionOutcome, FlagStatus


class ChargingMatter(SQLModel, table=True):
    """legal category: an arrest awaiting a filing decision by the office it was forwarded to."""

    __tablename__ = "charging_matter"
    # The queue's read (queue_order.queue_keys): the office's matters in arrest order, from the
    # index alone (migration 0009pro).
    __table_args__ = (
        Index(
            "ix_charging_matter_office_arrest",
            "prosecuting_agency_id",
            "arrested_at",
            "id",
            "person_id",
            "referral_id",
        ),
        # The policy's SQL condition asks, per row of the queue, whether the person has a
        # matter at the viewer's office (hub.disclosure.grants_sql, migration 0010que).
        Index("ix_charging_matter_person_office", "person_id", "prosecuting_agency_id"),
        # The queue's read since migration 0011que: the office's matters awaiting a decision
        # (no standing outcome, or more information asked), without the decided ones.
        Index(
            "ix_charging_matter_office_standing",
            "prosecuting_agency_id",
            "standing_outcome",
            "arrested_at",
            "id",
            "person_id",
            "referral_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # Indexed: the equity cube finds each referral's charging outcome by it (hub.equity.figures).
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    prosecuting_agency_id: int = Field(foreign_key="agency.id", index=True)
    offense_tracking_number: str = Field(max_length=40, unique=True)
    offenses: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    arrested_at: datetime = utc_field()
    arrest_place: str | None = Field(default=None, max_length=200)
    court_date: date | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    # The outcome of the newest decision on the matter (the standing one: a later decision
    # supersedes, or follows a request for more information), None before the first. The
    # database keeps it: a trigger sets it as each decision is inserted, in that transaction,
    # whoever inserts (migration 0011que), so the queue filters by it instead of walking the
    # decisions of every matter.
    standing_outcome: DecisionOutcome | None = Field(
        default=None, sa_column=enum_column(DecisionOutcome, nullable=True)
    )


class ChargingDecision(SQLModel, table=True):
    """Immutable: a correction is a new decision that supersedes this one."""

    __tablename__ = "charging_decision"
    # A decision is superseded at most once, so the corrections of a decision form one chain.
    # Whether a matter has a standing decision other than "more information", from the index
    # alone (the queue, migration 0009pro).
    __table_args__ = (
        Index("uq_charging_decision_supersedes_id", "supersedes_id", unique=True),
        Index("ix_charging_decision_matter_outcome", "matter_id", "outcome", "id"),
    )

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


class DecisionFlag(SQLModel, table=True):
    """No participant worse off: a file decision that rested on disclosures of care data (plan,
    housing, health, treatment) is flagged for the client's defender and the privacy officer."""

    __tablename__ = "decision_flag"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="charging_decision.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    reason: str = Field(max_length=500)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    # The log entries (seq) the flag names: the disclosures of those categories.
    log_seqs: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    status: FlagStatus = Field(
        default=FlagStatus.open, sa_column=enum_column(FlagStatus, nullable=False)
    )
    created_at: datetime = utc_field(default_factory=utcnow)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = utc_field(default=None)
    review_note: str | None = Field(default=None, max_length=2000)


class DecisionImmutable(RuntimeError):
    """A charging decision, or the disclosures it is bound to, cannot be changed or deleted:
    record a new decision that supersedes it."""


def _refuse_change(_mapper: object, _connection: object, target: object) -> None:
    raise DecisionImmutable(
        f"{type(target).__name__} is immutable: record a new decision that supersedes it"
    )


# The database refuses too (triggers in migration 0002ref); this gives the clear error first.
for _model in (ChargingDecision, DecisionDisclosure):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)


class BreachSignalReview(SQLModel, table=True):
    """A privacy officer's review of a breach signal (a log entry tagged privacy:breach:signal,
    e.g. treatment data found among a prosecutor's disclosures). The signal itself stays in the
    log, unchanged; the review says who looked at it, when, and what they found."""

    __tablename__ = "breach_signal_review"

    id: int | None = Field(default=None, primary_key=True)
    log_seq: int = Field(foreign_key="log_entry.seq", unique=True)
    reviewed_by_id: int = Field(foreign_key="user.id")
    reviewed_at: datetime = utc_field(default_factory=utcnow)
    note: str = Field(max_length=2000)


class MatterDeputy(SQLModel, table=True):
    """The deputy (liaison prosecutor) of the office who handles a matter. A reassignment ends
    the current row and starts a new one, so who handled it when stays on record."""

    __tablename__ = "matter_deputy"

    id: int | None = Field(default=None, primary_key=True)
    matter_id: int = Field(foreign_key="charging_matter.id", index=True)
    deputy_id: int = Field(foreign_key="user.id", index=True)
    assigned_by_id: int = Field(foreign_key="user.id")
    assigned_at: datetime = utc_field(default_factory=utcnow)
    ended_at: datetime | None = utc_field(default=None)
