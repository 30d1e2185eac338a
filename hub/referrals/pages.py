"""What the referral and intake pages show, as typed contexts. Who a person is reaches a page
only as the policy layer disclosed it (an Identity, or a WithheldCategory saying why not)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from hub.charts import STRIP_DAYS, deadline_strip
from hub.disclosure.record_view import DisclosedRecord, Identity, WithheldCategory
from hub.referrals.checks import RECONCILIATION
from hub.referrals.corrections import CorrectionState
from hub.referrals.eligibility import Screening
from hub.referrals.forms import ArrestForm, ListEntryForm, PersonFields, SocialContactForm
from hub.referrals.intake_list import IntakeItem
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import OfficerReferralStatus, OverrideItem
from hub.referrals.opening import SocialContactListItem
from hub.referrals.rules import SiteRules
from hub.vocabulary import DeadlineStatus, ReferralCorrectionReason
from hub.web.paging import Paging
from hub.web.templating import Page

Who = Identity | WithheldCategory


@dataclass(frozen=True)
class Candidate:
    """A person on file who may be the one entered, as far as the referrer may know them."""

    person_id: int
    identity: Who
    score: float
    reason: str


@dataclass
class ReferralFormPage(Page):
    kind: str = "arrest"  # arrest | social_contact
    form: ArrestForm | SocialContactForm | None = None
    rules: SiteRules | None = None
    agencies: list[tuple[int, str]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    screening: Screening | None = None
    error: str | None = None
    screening_error: str | None = None  # the screening fragment's own (see ScreeningFragment)


@dataclass
class ScreeningFragment(Page):
    screening: Screening | None = None
    rules: SiteRules | None = None
    override_reason: str = ""
    screening_error: str | None = None


@dataclass(frozen=True)
class ListRow:
    item: SocialContactListItem
    identity: Who


@dataclass
class SocialContactListPage(Page):
    rows: list[ListRow] = field(default_factory=list)
    form: ListEntryForm | PersonFields | None = None
    rules: SiteRules | None = None
    candidates: list[Candidate] = field(default_factory=list)
    can_add: bool = False
    can_refer: bool = False
    error: str | None = None


@dataclass(frozen=True)
class FeedbackRow:
    item: OfficerReferralStatus
    identity: Who
    shows_status: bool  # engagement disclosed: the program status
    shows_charging: bool  # legal disclosed: the charging outcome


@dataclass
class MyReferralsPage(Page):
    rows: list[FeedbackRow] = field(default_factory=list)
    paging: Paging | None = None


@dataclass
class ReferralFeedbackPage(Page):
    row: FeedbackRow | None = None
    rules: SiteRules | None = None
    created: bool = False
    error: str | None = None
    reconciliation: str = RECONCILIATION
    correction: CorrectionState | None = None
    agencies: list[tuple[int, str]] = field(default_factory=list)
    reasons: dict[ReferralCorrectionReason, str] = field(default_factory=dict)


@dataclass
class OverridesPage(Page):
    items: list[OverrideItem] = field(default_factory=list)
    officers: dict[int, str] = field(default_factory=dict)
    exclusion_labels: dict[str, str] = field(default_factory=dict)
    single: bool = False  # one override, with its approve action
    paging: Paging | None = None
    error: str | None = None
    # Referral ids whose referral fields (exclusions, reason) the policy disclosed.
    disclosed: frozenset[int] = frozenset()


@dataclass(frozen=True)
class IntakeRow:
    item: IntakeItem
    identity: Who
    shows_referral: bool
    shows_clock: bool
    today: date | None = None  # the site's day, for the row's clock strip
    zone: tzinfo = UTC

    @property
    def strip(self) -> str | None:
        """The clock as a picture, only where the policy shows the clock (engagement)."""
        if not self.shows_clock or self.today is None:
            return None
        item = self.item
        return deadline_strip(
            item.intake_due_on,
            self.today,
            item.deadline_status.value,
            screening=item.screening_done_at.astimezone(self.zone).date()
            if item.screening_done_at
            else None,
            intake=item.intake_done_at.astimezone(self.zone).date()
            if item.intake_done_at
            else None,
        )


@dataclass
class IntakeQueuePage(Page):
    rows: list[IntakeRow] = field(default_factory=list)
    paging: Paging | None = None
    tab: str = "current"
    counts: dict[str, int] = field(default_factory=dict)
    old_miss_days: int = 14
    strip_days: int = STRIP_DAYS


@dataclass
class IntakePage(Page):
    referral: Referral | None = None
    record: DisclosedRecord | None = None
    shows_referral: bool = False
    shows_clock: bool = False
    deadline: DeadlineStatus | None = None
    case_managers: list[tuple[int, str]] = field(default_factory=list)
    can_assign_others: bool = False
    created: bool = False
    error: str | None = None
    done: str | None = None
    # Persons on file the police referral's person may be (PersonReconciliation), as far as
    # the policy lets this case manager know them.
    to_reconcile: list[tuple[int, Who]] = field(default_factory=list)


@dataclass(frozen=True)
class CaseloadRequestRow:
    """A pending caseload request, its client as far as the supervisor may know them."""

    request_id: int
    referral_id: int
    identity: Who
    requested_by: str
    held_by: str | None
    requested_at: datetime


@dataclass
class CaseloadRequestsPage(Page):
    rows: list[CaseloadRequestRow] = field(default_factory=list)
    error: str | None = None
    done: str | None = None
