from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import AgencyKind, ConsentKind


class Consent(SQLModel, table=True):
    """A release of information. 42 CFR 2.31 lists the elements a Part 2 consent must hold;
    hub.consents.services refuses to treat one as active unless all are present."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: ConsentKind = Field(sa_column=enum_column(ConsentKind, nullable=False))
    # Who may disclose (2.31(a)(2)): an agency of the program, usually the case manager's.
    discloser_agency_id: int = Field(foreign_key="agency.id")
    # Recipients (2.31(a)(3)): a named person, an agency, or every agency of a kind.
    recipient_user_id: int | None = Field(default=None, foreign_key="user.id")
    recipient_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    recipient_agency_kind: AgencyKind | None = Field(
        default=None, sa_column=enum_column(AgencyKind, nullable=True)
    )
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    purposes: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    description: str = Field(max_length=1000)  # the information, in words (2.31(a)(4))
    right_to_revoke: str = Field(max_length=1000)  # the right to revoke and how (2.31(a)(6))
    expires_on: date | None = Field(default=None)
    expiry_event: str | None = Field(default=None, max_length=300)
    # 42 CFR 2.35: a criminal-justice-referral consent may be irrevocable until this event.
    irrevocable_until: str | None = Field(default=None, max_length=300)
    # When the stated events happened (recorded by hub.consents.services.record_consent_event):
    # after the first the consent may be revoked; after the second it is no longer in effect.
    irrevocable_event_at: datetime | None = utc_field(default=None)
    expiry_event_at: datetime | None = utc_field(default=None)
    signed_by: str = Field(max_length=200)
    signature_on_file: bool = Field(default=False)
    signed_on: date
    revoked_at: datetime | None = utc_field(default=None)
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)
    created_by_id: int = Field(foreign_key="user.id")
