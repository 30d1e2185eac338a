"""The eligible population: counts of arrests for LEAD-eligible offenses that the police
department sends each month, per area, race/ethnicity and gender. Aggregates, never persons."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.db import utc_field, utcnow


class EligibleArrestImport(SQLModel, table=True):
    """One imported file's month for one police agency. A later import of the same agency and
    month supersedes it; the earlier one is kept with `superseded_at` set (issue 16)."""

    __tablename__ = "eligible_arrest_import"

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    month: str = Field(max_length=7, index=True)  # YYYY-MM
    imported_at: datetime = utc_field(default_factory=utcnow)
    imported_by_id: int = Field(foreign_key="user.id")
    file_sha256: str = Field(max_length=64)
    rows: int
    superseded_at: datetime | None = utc_field(default=None)
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
