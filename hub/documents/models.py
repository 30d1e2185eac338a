"""A document attached to a client or to one of their consents, sealed at rest."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.crypto import EncryptedText
from hub.db import enum_column, utc_field, utcnow
from hub.vocabulary import Category, DocumentKind


class ClientDocument(SQLModel, table=True):
    """A document of its own category (an ID: identity; a Part 2 consent's signed release:
    treatment), read only through hub.disclosure.documents. As a court order's copy is
    (hub.disclosure.models.CourtOrderDocument), the content is kept apart from what a list
    shows, base64 sealed under HUB_DATA_KEYS; its media type is what its bytes are."""

    __tablename__ = "client_document"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    consent_id: int | None = Field(default=None, foreign_key="consent.id", index=True)
    kind: DocumentKind = Field(sa_column=enum_column(DocumentKind, nullable=False))
    category: Category = Field(sa_column=enum_column(Category, nullable=False))
    media_type: str = Field(max_length=32)
    content: str = Field(sa_column=Column(EncryptedText, nullable=False))
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int = Field(foreign_key="user.id")
    uploaded_at: datetime = utc_field(default_factory=utcnow)
