"""A plan goal's steps. Each step takes its goal's category: plan, or treatment where the goal's
domain is substance use or a Part 2 program recorded it (hub.disclosure.origin); steps are read
only with their goal, through hub.disclosure.plans."""

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import StepStatus


class PlanStep(SQLModel, table=True):
    """plan: one step toward a goal, with its status and the date it is due or was done."""

    __tablename__ = "plan_step"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="plan_goal.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    step: str = Field(max_length=500)
    status: StepStatus = Field(
        default=StepStatus.planned, sa_column=enum_column(StepStatus, nullable=False)
    )
    on_date: date | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime | None = utc_field(default=None)
