"""The eligible population: counts of arrests for LEAD-eligible offenses that the police
department sends each month, per area, race/ethnicity and gender. Aggregates, never persons."""

from datetime import date, datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from hub.db import utc_field, utcnow


class MonthImport(SQLModel):
    """What every imported month records: who imported which file when, and when a later import
    of the same month superseded it (issue 16: the earlier one is kept)."""

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, index=True)  # YYYY-MM
    imported_at: datetime = utc_field(default_factory=utcnow)
    imported_by_id: int = Field(foreign_key="user.id")
    file_sha256: str = Field(max_length=64)
    rows: int
    superseded_at: datetime | None = utc_field(default=None)


class EligibleArrestImport(MonthImport, table=True):
    """One imported file's month for one police agency."""

    __tablename__ = "eligible_arrest_import"

    agency_id: int = Field(foreign_key="agency.id", index=True)
    superseded_by_id: int | None = Field(default=None, foreign_key="eligible_arrest_import.id")


class EligibleArrestCount(SQLModel, table=True):
    """Arrests for LEAD-eligible offenses in a month and area, of one race/ethnicity group and
    gender (HMIS codes, as at referral)."""

    __tablename__ = "eligible_arrest_count"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="eligible_arrest_import.id", index=True)
    area: str = Field(max_length=100)
    race_group: str = Field(max_length=32)
    gender: int
    arrests: int


class JailBookingImport(MonthImport, table=True):
    """One imported month of the jail's bookings (by booking date)."""

    __tablename__ = "jail_booking_import"

    superseded_by_id: int | None = Field(default=None, foreign_key="jail_booking_import.id")


class JailBooking(SQLModel, table=True):
    """legal: one booking into the jail of a person the hub knows, and the days they spent in
    custody on it. Read only as counts (hub.equity.outcomes)."""

    __tablename__ = "jail_booking"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="jail_booking_import.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    booked_on: date = Field(index=True)
    jail_days: int


class EquityDataVersion(SQLModel, table=True):
    """One row: a new random number whenever a row the equity figures count is written
    (triggers of migration 0010eqv, in the writing transaction), so figures computed from data
    of one version are the figures of any later moment of that version (hub.equity.kept)."""

    __tablename__ = "equity_data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(sa_type=BigInteger)
    # PostgreSQL: the transaction that drew it, so a transaction of many rows draws once.
    changed_in: int | None = Field(default=None, sa_type=BigInteger)
