from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import MailDelivery, MailKind, MailStatus


class OutboxMail(SQLModel, table=True):
    """One e-mail to send. It is written in the transaction of the event that causes it, so a
    mail exists exactly when its event happened, and an SMTP outage only delays it. Its text
    names no client and no record: a fixed sentence and a link to the hub."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    to_address: str = Field(max_length=254)
    kind: MailKind = Field(sa_column=enum_column(MailKind, nullable=False))
    subject: str = Field(max_length=200)
    # Sealed at rest: an invitation's body holds the enrolment link, a secret.
    body: str = Field(sa_column=Column(EncryptedText(), nullable=False))
    status: MailStatus = Field(
        default=MailStatus.pending, sa_column=enum_column(MailStatus, nullable=False)
    )
    attempts: int = Field(default=0)
    next_attempt_at: datetime = utc_field(default_factory=utcnow)
    # A sender holds a mail until this time while it talks to the server; another sender
    # leaves it alone meanwhile, so no mail goes out twice.
    claimed_until: datetime | None = utc_field(default=None)
    last_error: str | None = Field(default=None, max_length=100)  # the error's type, no text
    created_at: datetime = utc_field(default_factory=utcnow)
    sent_at: datetime | None = utc_field(default=None)
    digest_id: int | None = Field(default=None, foreign_key="outbox.id")  # folded into it


class MailPreference(SQLModel, table=True):
    """How a user wants notifications by e-mail. Without a row: none by e-mail (the badge in
    the hub tells them); security alerts go at once whatever this says."""

    __tablename__ = "mail_preference"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    delivery: MailDelivery = Field(sa_column=enum_column(MailDelivery, nullable=False))
    changed_at: datetime = utc_field(default_factory=utcnow)
