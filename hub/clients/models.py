"""The client record. Each table's docstring names the disclosure category of its fields;
hub.disclosure.record maps every field to exactly one category."""

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import Category, PlanDomain, ProgramStatus


class Person(SQLModel, table=True):
    """identity: names and date of birth; demographics: HUD HMIS codes; engagement: status."""

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100, index=True)
    date_of_birth: date | None = Field(default=None, index=True)
    # HUD HMIS FY2024 RaceAndEthnicity (1.x) codes, several allowed; 8/9/99 for not collected.
    race_ethnicity: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    additional_race_ethnicity: str | None = Field(default=None, max_length=100)
    # HUD HMIS FY2024 Gender codes, several allowed.
    gender: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    program_status: ProgramStatus = Field(
        default=ProgramStatus.referred,
        sa_column=enum_column(ProgramStatus, nullable=False),
    )
    status_changed_at: datetime | None = utc_field(default=None)
    last_contact_on: date | None = Field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class PersonAlias(SQLModel, table=True):
    """identity"""

    __tablename__ = "person_alias"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=200, index=True)


class PersonContact(SQLModel, table=True):
    """contact: sealed at rest."""

    __tablename__ = "person_contact"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    phone: str | None = Field(default=None, sa_column=Column(EncryptedText))
    staying_at: str | None = Field(default=None, sa_column=Column(EncryptedText))
    updated_at: datetime = utc_field(default_factory=utcnow)
    # Who recorded it: what a Part 2 program's staff record is Part 2 data (hub.disclosure.origin).
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


class ClientAssignment(SQLModel, table=True):
    """A relationship that the disclosure policy reads: a case manager's caseload or a
    defender's client. An officer's relationship is the referral itself."""

    __tablename__ = "client_assignment"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=16)  # caseload | defense
    started_at: datetime = utc_field(default_factory=utcnow)
    ended_at: datetime | None = utc_field(default=None)


class PlanGoal(SQLModel, table=True):
    """plan: the client's own goals (harm reduction: the client sets them) and services."""

    __tablename__ = "plan_goal"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    goal: str = Field(max_length=500)
    services: str | None = Field(default=None, max_length=500)
    status: str = Field(default="open", max_length=16)  # open | met | set_aside
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Issue 14: the life area (substance use is treatment data, hub.disclosure.origin) and when
    # the goal last changed (its steps and services live in hub.plans, hub.services_ledger).
    domain: PlanDomain | None = Field(default=None, sa_column=enum_column(PlanDomain))
    updated_at: datetime | None = utc_field(default=None)


class HousingRecord(SQLModel, table=True):
    """housing: HUD HMIS current living situation and waiting lists (non-displacement)."""

    __tablename__ = "housing_record"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    living_situation: int | None = Field(default=None)  # HMIS 3.917 code
    waitlist: str | None = Field(default=None, max_length=200)
    waitlist_since: date | None = Field(default=None)
    updated_at: datetime = utc_field(default_factory=utcnow)
    # Who recorded it: what a Part 2 program's staff record is Part 2 data (hub.disclosure.origin).
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


class HealthRecord(SQLModel, table=True):
    """health: mental and physical health, sealed at rest."""

    __tablename__ = "health_record"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    mental_health: str | None = Field(default=None, sa_column=Column(EncryptedText))
    physical_health: str | None = Field(default=None, sa_column=Column(EncryptedText))
    updated_at: datetime = utc_field(default_factory=utcnow)
    # Who recorded it: what a Part 2 program's staff record is Part 2 data (hub.disclosure.origin).
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


class TreatmentRecord(SQLModel, table=True):
    """treatment: substance-use treatment, a 42 CFR Part 2 record, sealed at rest."""

    __tablename__ = "treatment_record"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    program: str = Field(sa_column=Column(EncryptedText, nullable=False))
    started_on: date | None = Field(default=None)
    ended_on: date | None = Field(default=None)
    notes: str | None = Field(default=None, sa_column=Column(EncryptedText))
    created_at: datetime = utc_field(default_factory=utcnow)


class CaseNote(SQLModel, table=True):
    """A case note carries its own category; its body is sealed at rest whatever the category,
    so that no reader has to remember which ones are sensitive."""

    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    author_id: int = Field(foreign_key="user.id", index=True)
    category: Category = Field(sa_column=enum_column(Category, nullable=False))
    written_at: datetime = utc_field(default_factory=utcnow)
    body: str = Field(sa_column=Column(EncryptedText, nullable=False))
