from datetime import date, datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from hub.db import JSONList, enum_column, utc_field, utcnow
from hub.vocabulary import CaseloadRequestStatus, ReferralCorrectionReason, ReferralKind


class Referral(SQLModel, table=True):
    """referral category: kind, date, referring officer, offenses, eligibility.
    The intake clock (screening and full intake by the deadline) lives here too."""

    # The intake queue in SQL: an agency's open referrals (no intake yet) in due-date order,
    # and its recently completed ones by completion, from one index.
    __table_args__ = (
        Index(
            "ix_referral_agency_intake",
            "case_management_agency_id",
            "intake_done_at",
            "withdrawn_at",
            "intake_due_on",
        ),
    )

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
    # The presumptive exclusions the screening matched (codes of the site's rules) and the
    # version of the rules it ran under, so a report can say what the officer overrode.
    exclusions_matched: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    rules_version: str | None = Field(default=None, max_length=64)
    exclusion_override_reason: str | None = Field(default=None, max_length=1000)
    # A sergeant of the agency, never the referring officer, approves the override.
    override_approved_at: datetime | None = utc_field(default=None)
    override_approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Social contact: the prior documented involvement the officer points to.
    prior_involvement: str | None = Field(default=None, max_length=500)
    # Community referral: the social contact list entry it came from.
    social_contact_entry_id: int | None = Field(default=None, foreign_key="social_contact_entry.id")
    # Arrest: the office the arrest report was forwarded to (city attorney or county prosecutor).
    forwarded_to_agency_id: int | None = Field(default=None, foreign_key="agency.id")
    case_management_agency_id: int = Field(foreign_key="agency.id")
    intake_due_on: date
    screening_done_at: datetime | None = utc_field(default=None)
    screening_done_by_id: int | None = Field(default=None, foreign_key="user.id")
    intake_done_at: datetime | None = utc_field(default=None)
    intake_done_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Withdrawn by its officer as made in error (within a day): it leaves every queue.
    withdrawn_at: datetime | None = utc_field(default=None)
    withdrawn_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc_field(default_factory=utcnow)


class ReferralCorrection(SQLModel, table=True):
    """referral category: an officer's correction or withdrawal of their own referral made in
    error, with the reason (a code, logged) and the officer's note (free text, kept here)."""

    __tablename__ = "referral_correction"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    corrected_by_id: int = Field(foreign_key="user.id")
    corrected_at: datetime = utc_field(default_factory=utcnow)
    withdrawn: bool = False
    reason: ReferralCorrectionReason = Field(
        sa_column=enum_column(ReferralCorrectionReason, nullable=False)
    )
    note: str | None = Field(default=None, max_length=1000)
    # What changed, as {field: [before, after]}; codes and ids, never names.
    changes: list[dict[str, object]] = Field(default_factory=list, sa_column=Column(JSONList))


class SocialContactEntry(SQLModel, table=True):
    """referral category: a person whom police identified for a social contact referral, so
    that case managers, defenders or service providers can make the connection instead of an
    officer having to find the person (the LEAD protocol's fix for the list's backlog)."""

    __tablename__ = "social_contact_entry"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    added_by_id: int = Field(foreign_key="user.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    offense_category: str = Field(max_length=32)  # drug | prostitution
    prior_involvement: str = Field(max_length=500)
    precinct: str | None = Field(default=None, max_length=100)
    added_at: datetime = utc_field(default_factory=utcnow)
    # Closed when a referral is made for the person, or when police withdraw the entry.
    closed_at: datetime | None = utc_field(default=None)
    closed_by_referral_id: int | None = Field(default=None)


class IntakeAssessment(SQLModel, table=True):
    """plan category: the full intake assessment and the services the client was connected to.
    Kept apart from the referral so that the referral category carries only that intake
    happened and when."""

    __tablename__ = "intake_assessment"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    assessed_by_id: int = Field(foreign_key="user.id")
    assessed_at: datetime = utc_field()
    services: list[str] = Field(default_factory=list, sa_column=Column(JSONList))
    created_at: datetime = utc_field(default_factory=utcnow)


class CaseloadRequest(SQLModel, table=True):
    """A case manager's request to take a client onto their caseload. It grants nothing until
    a supervisor of the same agency approves it (no one widens their own access, CJIS AC-5)."""

    __tablename__ = "caseload_request"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    referral_id: int = Field(foreign_key="referral.id")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    requested_by_id: int = Field(foreign_key="user.id")
    # Who held the client when it was asked for (told when it is approved).
    previous_case_manager_id: int | None = Field(default=None, foreign_key="user.id")
    requested_at: datetime = utc_field(default_factory=utcnow)
    status: CaseloadRequestStatus = Field(
        default=CaseloadRequestStatus.pending,
        sa_column=enum_column(CaseloadRequestStatus, nullable=False),
    )
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = utc_field(default=None)


class PersonReconciliation(SQLModel, table=True):
    """identity category: a person police referred (or listed) whose particulars resemble
    persons already on file. Police are told nothing of the match (it would say who is known
    to the program); the case-management agency decides whether it is one of the candidates
    (`linked_person_id`) or a new person, and records who decided and when."""

    __tablename__ = "person_reconciliation"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    candidate_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONList))
    flagged_at: datetime = utc_field(default_factory=utcnow)
    flagged_by_id: int = Field(foreign_key="user.id")
    resolved_at: datetime | None = utc_field(default=None)
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    linked_person_id: int | None = Field(default=None, foreign_key="person.id")
