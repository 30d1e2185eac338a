"""Services given or bought for a client, with the funding source: the bridge-funding ledger.

A LEAD-funded service that bridges a public waiting list names the list and the client's place
on it; the bridge ends when the client's turn comes (`turn_came_on`). Paying it after that day
is displacement: program money would keep a client off the public list's turn (LEAD's
non-displacement rule)."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import Category, FundingSource, ServiceKind


class ServiceRecord(SQLModel, table=True):
    """plan, or health/treatment for a clinical kind (hub.services_ledger.kinds)."""

    __tablename__ = "service_record"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    goal_id: int | None = Field(default=None, foreign_key="plan_goal.id", index=True)
    kind: ServiceKind = Field(sa_column=enum_column(ServiceKind, nullable=False))
    provider: str = Field(max_length=200)
    provided_on: date = Field(index=True)
    units: int = Field(default=1)
    cost_cents: int = Field(default=0)
    funding_source: FundingSource = Field(sa_column=enum_column(FundingSource, nullable=False))
    # A bridge: the public waiting list it bridges, the client's place, the day their turn came.
    waitlist: str | None = Field(default=None, max_length=200)
    waitlist_place: int | None = Field(default=None)
    turn_came_on: date | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


K = ServiceKind
# Each kind's disclosure category: a clinical service is health or treatment data (substance-use
# care is 42 CFR Part 2 treatment, whoever records it); the rest is plan data.
KIND_CATEGORY: dict[ServiceKind, Category] = {
    **{k: Category.plan for k in ServiceKind},
    K.medical_visit: Category.health,
    K.mental_health_counseling: Category.health,
    K.substance_use_treatment: Category.treatment,
    K.detox: Category.treatment,
    K.medication_for_opioid_use: Category.treatment,
}


def is_bridge(service: ServiceRecord) -> bool:
    """A LEAD-funded service that holds a client over until their turn on a public list."""
    return service.funding_source == FundingSource.lead and bool(service.waitlist)


def displaces(service: ServiceRecord) -> bool:
    """LEAD money paid for a bridge after the client's turn on the public list came: the
    program would be keeping the public service's place instead of bridging to it."""
    return (
        is_bridge(service)
        and service.turn_came_on is not None
        and service.provided_on > service.turn_came_on
    )
