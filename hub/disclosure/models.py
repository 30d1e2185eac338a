from datetime import date, datetime

from sqlalchemy import Column, Text, event
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import JSONList, utc_field, utcnow


class CourtOrder(SQLModel, table=True):
    """A court order under 42 CFR 2.64/2.65, recorded by a privacy officer for one named client
    and scope. Only such an order lets treatment or health data reach enforcement users or bind
    to a charging decision, and only once a second privacy officer has confirmed it."""

    __tablename__ = "court_order"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    recipient_agency_id: int = Field(foreign_key="agency.id")
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    purposes: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    court: str = Field(max_length=200)
    order_reference: str = Field(max_length=100)
    rule: str = Field(max_length=8)  # 2.64 | 2.65
    scope: str = Field(max_length=1000)
    issued_on: date
    expires_on: date | None = Field(default=None)
    recorded_by_id: int = Field(foreign_key="user.id")
    recorded_at: datetime = utc_field(default_factory=utcnow)
    judge: str = Field(default="", max_length=200)
    # In force only once confirmed by a privacy officer other than the recorder (AC-5); orders
    # recorded before confirmation existed stay unconfirmed and grant nothing (fail closed).
    confirmed_by_id: int | None = Field(default=None, foreign_key="user.id")
    confirmed_at: datetime | None = utc_field(default=None)


class CourtOrderDocument(SQLModel, table=True):
    """The uploaded copy of a court order (a PDF), sealed at rest under HUB_DATA_KEYS. Kept
    apart from court_order so that deciding a read never loads it."""

    __tablename__ = "court_order_document"

    id: int | None = Field(default=None, primary_key=True)
    court_order_id: int = Field(foreign_key="court_order.id", unique=True)
    # base64 of the PDF, sealed (hub.crypto.EncryptedText; `hub keys rotate` re-seals it).
    content: str = Field(sa_column=Column(EncryptedText, nullable=False))
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int = Field(foreign_key="user.id")
    uploaded_at: datetime = utc_field(default_factory=utcnow)


class BreakGlass(SQLModel, table=True):
    """A privacy officer's time-boxed access to one client's record, with a stated reason."""

    __tablename__ = "break_glass"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    reason: str = Field(max_length=1000)
    opened_at: datetime = utc_field(default_factory=utcnow)
    expires_at: datetime = utc_field()
    # Every break-glass is flagged for review until a privacy officer other than the opener
    # reviews it.
    reviewed_at: datetime | None = utc_field(default=None)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id")


class PolicyRelease(SQLModel, table=True):
    """One release of the disclosure policy: the casbin model and policy text as released, and
    who released it when. The newest release is the policy in force in every process
    (hub.disclosure.releases). Append-only: a later release replaces it, none is ever changed."""

    __tablename__ = "policy_release"

    id: int | None = Field(default=None, primary_key=True)
    # hub.disclosure.policy.policy_version of the two texts: what every log entry names.
    version: str = Field(max_length=64, index=True)
    model_text: str = Field(sa_column=Column(Text, nullable=False))
    policy_text: str = Field(sa_column=Column(Text, nullable=False))
    released_by_id: int | None = Field(default=None, foreign_key="user.id")  # None: the CLI
    released_via: str = Field(max_length=16)  # command_line | admin_page
    released_at: datetime = utc_field(default_factory=utcnow)


class ReleaseImmutable(RuntimeError):
    """A policy release cannot be changed or deleted: release another policy instead."""


def _refuse_change(_mapper: object, _connection: object, target: object) -> None:
    raise ReleaseImmutable("a policy release is never changed: release another policy instead")


# The database refuses too (triggers in migration 0004release); this gives the clear error first.
event.listen(PolicyRelease, "before_update", _refuse_change)
event.listen(PolicyRelease, "before_delete", _refuse_change)
