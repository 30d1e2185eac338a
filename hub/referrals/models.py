from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import ReferralKind


class Referral(SQLModel, table=True):
    """referral category: kind, date, referring officer, offenses, eligibility.
    The intake clock (screening and full intake by the deadline) lives here too."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: ReferralKind = Field(sa_column=enum_column(ReferralKind, nullable=False))
    referred_at: datetime = utc_field(index=True)
    referring_user_id: int = Field(foreign_key="user.id", index=True)
    referring_agency_id: int = Field(foreign_key="agency.id")
    precinct: str | None = Field(default=None, max_length=100)
    # Offense codes from the site's eligibility rules, e.g. "VUCSA-possession".
    alleged_offenses: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    offense_category: str = Field(max_length=32)  # drug | prostitution
    eligibility: str = Field(default="eligible", max_length=32)  # eligible | presumptively_excluded
    exclusion_override_reason: str | None = Field(default=None, max_length=1000)
    # Social contact: the prior documented involvement the officer points to.
    prior_involvement: str | None = Field(default=None, max_length=500)
    # Arrest: the office the arrest report was forwarded to (city attorney or county prosecutor).
    forwarded_to_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    case_management_agency_id: int = Field(foreign_key="agency.id")
    intake_due_on: date
    screening_done_at: datetime | None = utc_field(default=None)
    intake_done_at: datetime | None = utc_field(default=None)
    created_at: datetime = utc_field(default_factory=utcnow)
