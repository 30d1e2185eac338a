from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import ArrestReportStatus, OffenseLevel


class ArrestReport(SQLModel, table=True):
    """legal category: an arrest as a police agency (or a prosecutor's case system) reported
    it, for any offense, with the particulars that identify the person arrested.

    Police never learn whether the person is on file (issue 12): the report is matched to a
    participant here, server side; a sure match opens a charging matter (`matter_id`), any
    other waits for case management (`candidate_ids`, the persons it may be)."""

    __tablename__ = "arrest_report"

    id: int | None = Field(default=None, primary_key=True)
    reported_at: datetime = utc_field(default_factory=utcnow)
    reported_by_id: int = Field(foreign_key="user.id")
    reporting_agency_id: int = Field(foreign_key="agency.id")
    # identity: as the reporter entered it, never shown back to police.
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date | None = Field(default=None)
    offense_tracking_number: str = Field(max_length=40, unique=True)
    offense_code: str = Field(max_length=64)
    offense_description: str = Field(max_length=200)
    offense_level: OffenseLevel = Field(sa_column=enum_column(OffenseLevel, nullable=False))
    has_victim: bool = Field(default=False)
    arrested_at: datetime = utc_field()
    arrest_place: str | None = Field(default=None, max_length=200)
    status: ArrestReportStatus = Field(
        sa_column=enum_column(ArrestReportStatus, nullable=False, index=True)
    )
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    matter_id: int | None = Field(default=None, foreign_key="charging_matter.id", unique=True)
    candidate_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    reconciled_by_id: int | None = Field(default=None, foreign_key="user.id")
    reconciled_at: datetime | None = utc_field(default=None)
