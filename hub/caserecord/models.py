"""The tables of keeping a record: every change to a section, and the contact log.

Each table's docstring names the disclosure category of its fields; they are read only through
hub.disclosure (history.py, caseload.py), under the read policy of the category."""

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import Category, ContactKind, PlaceKind


class RecordChange(SQLModel, table=True):
    """One saved change to one section of a client's record, of the section's category: who,
    when, and the value before and after, sealed at rest as JSON. `version` counts the
    section's changes; a form carries the version it was based on, and the unique constraint
    refuses a second save based on the same one (nothing is silently overwritten)."""

    __tablename__ = "record_change"
    __table_args__ = (
        UniqueConstraint("person_id", "section", "version", name="uq_record_change_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # contact, housing, health, status, or another service's own (e.g. plan_goal:12).
    section: str = Field(max_length=64)
    category: Category = Field(sa_column=enum_column(Category, nullable=False))
    version: int
    changed_by_id: int = Field(foreign_key="user.id")
    changed_at: datetime = utc_field(default_factory=utcnow)
    previous: str | None = Field(default=None, sa_column=Column(EncryptedText))
    saved: str = Field(sa_column=Column(EncryptedText, nullable=False))
    # Who recorded the value it replaced: Part 2 by source (42 CFR 2.11) holds for it too.
    previous_recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


class ContactEntry(SQLModel, table=True):
    """engagement: a contact with the client, or an attempt (date, kind, kind of place); its
    short note carries its own category and is sealed at rest, as a case note's body is."""

    __tablename__ = "contact_entry"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    contact_on: date
    kind: ContactKind = Field(sa_column=enum_column(ContactKind, nullable=False))
    place_kind: PlaceKind = Field(sa_column=enum_column(PlaceKind, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(EncryptedText))
    note_category: Category | None = Field(default=None, sa_column=enum_column(Category))
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)
