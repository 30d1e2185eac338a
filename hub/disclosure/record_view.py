"""The typed client record a page or the API receives from the policy layer: one section per
category, each either shown or a WithheldCategory with its reason."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.policy import (
    Facts,
)
from hub.vocabulary import (
    Category,
    ProgramStatus,
    Purpose,
    WithheldReason,
)


@dataclass(frozen=True)
class WithheldCategory:
    """Stands in the record where a withheld category would be: no data, only why."""

    category: Category
    reason: WithheldReason


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    date_of_birth: date | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Demographics:
    race_ethnicity: list[int]
    additional_race_ethnicity: str | None
    gender: list[int]


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    staying_at: str | None = None
    updated_at: datetime | None = None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it


@dataclass(frozen=True)
class ReferralEntry:
    id: int
    kind: str
    referred_at: datetime
    referring_user_id: int
    referring_agency_id: int
    precinct: str | None
    alleged_offenses: list[str]
    offense_category: str
    eligibility: str
    exclusion_override_reason: str | None
    prior_involvement: str | None
    case_management_agency_id: int
    created_at: datetime


@dataclass(frozen=True)
class Referrals:
    entries: tuple[ReferralEntry, ...]
    record_created_at: datetime
    record_created_by_id: int | None


@dataclass(frozen=True)
class IntakeClock:
    intake_due_on: date
    screening_done_at: datetime | None
    intake_done_at: datetime | None


@dataclass(frozen=True)
class Engagement:
    program_status: ProgramStatus
    status_changed_at: datetime | None
    last_contact_on: date | None
    intake: tuple[IntakeClock, ...] = ()


@dataclass(frozen=True)
class ChargingDecisionEntry:
    id: int
    matter_id: int
    decided_by_id: int
    decided_at: datetime
    outcome: str
    reason_codes: list[str]
    note: str | None
    supersedes_id: int | None
    tree_head_id: int | None


@dataclass(frozen=True)
class ChargingMatterEntry:
    id: int
    referral_id: int | None
    prosecuting_agency_id: int
    offense_tracking_number: str
    offenses: list[str]
    arrested_at: datetime
    court_date: date | None
    created_at: datetime
    decisions: tuple[ChargingDecisionEntry, ...] = ()


@dataclass(frozen=True)
class PriorMatterEntry:
    id: int
    case_number: str
    court: str
    offense_code: str
    offense_description: str
    level: str
    filed_on: date
    disposed_on: date | None
    disposition: str | None
    source: str


@dataclass(frozen=True)
class WarrantEntry:
    id: int
    issued_on: date
    court: str
    kind: str
    status: str
    source: str


@dataclass(frozen=True)
class Legal:
    forwarded_to_agency_ids: tuple[int, ...]
    matters: tuple[ChargingMatterEntry, ...]
    prior_matters: tuple[PriorMatterEntry, ...] = ()
    warrants: tuple[WarrantEntry, ...] = ()


@dataclass(frozen=True)
class PlanGoalEntry:
    id: int
    goal: str
    services: str | None
    status: str
    created_at: datetime
    created_by_id: int | None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it
    domain: str | None = None  # substance use is treatment data (hub.disclosure.origin)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Plan:
    goals: tuple[PlanGoalEntry, ...]
    # Goals a Part 2 program recorded that this viewer may not see are left out; this says why
    # (42 CFR 2.11: withheld with a reason, never shown as "no goals").
    part2_withheld: WithheldReason | None = None


@dataclass(frozen=True)
class Housing:
    living_situation: int | None = None
    waitlist: str | None = None
    waitlist_since: date | None = None
    updated_at: datetime | None = None
    # Recorded by a Part 2 program, or a living situation naming treatment or detox.
    part2: bool = False


@dataclass(frozen=True)
class Health:
    mental_health: str | None = None
    physical_health: str | None = None
    updated_at: datetime | None = None
    part2: bool = False  # recorded by a Part 2 program: the 42 CFR 2.32 notice goes with it


@dataclass(frozen=True)
class TreatmentEntry:
    id: int
    program: str
    started_on: date | None
    ended_on: date | None
    notes: str | None
    created_at: datetime


@dataclass(frozen=True)
class Treatment:
    entries: tuple[TreatmentEntry, ...]


@dataclass(frozen=True)
class NoteEntry:
    id: int
    category: Category
    author_id: int
    written_at: datetime
    body: str
    part2: bool = False  # written by a Part 2 program's staff: the 2.32 notice goes with it


@dataclass(frozen=True)
class DisclosedRecord:
    """What one viewer may see of one client for one purpose. A withheld category is a
    WithheldCategory in its place; notes are only those of disclosed categories."""

    person_id: int
    purpose: Purpose
    policy_version: str
    log_seq: int  # the disclosure-log entry that records this read
    basis: Mapping[Category, str]  # legal basis per disclosed category
    identity: Identity | WithheldCategory
    demographics: Demographics | WithheldCategory
    contact: Contact | WithheldCategory
    referral: Referrals | WithheldCategory
    legal: Legal | WithheldCategory
    engagement: Engagement | WithheldCategory
    plan: Plan | WithheldCategory
    housing: Housing | WithheldCategory
    health: Health | WithheldCategory
    treatment: Treatment | WithheldCategory
    notes: tuple[NoteEntry, ...]
    # Whether the person is a participant, where the viewer may know only that (or more).
    participant: bool | None
    # 42 CFR 2.32: treatment data, or data a Part 2 program recorded, is present, so whatever
    # shows this carries `notice`.
    part2: bool
    # What the decision was made on. Never shown: it lets the page decide what else the viewer
    # may do with this client (file a note under which category) without gathering it again.
    facts: Facts | None = field(default=None, repr=False, compare=False)

    def section(self, category: Category) -> Any:
        return getattr(self, category.value)

    @property
    def withheld(self) -> list[WithheldCategory]:
        return [s for c in Category if isinstance(s := self.section(c), WithheldCategory)]

    @property
    def disclosed_categories(self) -> list[Category]:
        return [c for c in Category if not isinstance(self.section(c), WithheldCategory)]

    @property
    def notice(self) -> str | None:
        return REDISCLOSURE_NOTICE if self.part2 else None
