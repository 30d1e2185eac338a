"""What the work-group pages show, as typed contexts. Client data reaches them only inside the
AgendaView and proposals that hub.disclosure.items returned for this viewer."""

from dataclasses import dataclass, field
from datetime import datetime

from hub.disclosure.notice import REDISCLOSURE_NOTICE_SHORT
from hub.referrals.rules import ReasonCode
from hub.vocabulary import (
    ActionItemStatus,
    AgendaItemKind,
    Category,
    DecisionOutcome,
    DismissalReason,
    MeetingStatus,
    WithheldReason,
)
from hub.web.templating import Page
from hub.workgroup.agenda_views import AgendaView
from hub.workgroup.models import MeetingSeries, WorkGroupMeeting
from hub.workgroup.proposing import ProposalsView
from hub.workgroup.rules import (
    DISMISSAL_LABELS,
    DISMISSAL_NOTE_MAX,
    GROUP_LABELS,
    KIND_LABELS,
    ProposalGroup,
)
from hub.workgroup.schedule import ClosingCheck, NextMeeting

# Said briefly where a withheld category would be (docs/policy.md: never an empty field).
WITHHELD_WORDS: dict[WithheldReason, str] = {
    WithheldReason.admin: "not for administrators",
    WithheldReason.enforcement_rule: "never to police or prosecution (42 CFR 2.12(d))",
    WithheldReason.wrong_purpose: "not shared at the work group",
    WithheldReason.not_on_caseload: "not your client",
    WithheldReason.not_related: "not related to you",
    WithheldReason.no_consent: "no consent naming you",
    WithheldReason.part2: "no 42 CFR Part 2 consent",
    WithheldReason.break_glass_required: "break-glass required",
    WithheldReason.deny_by_default: "not granted",
}
STATUS_WORDS: dict[MeetingStatus, str] = {
    MeetingStatus.draft: "draft agenda",
    MeetingStatus.published: "agenda published",
    MeetingStatus.held: "held, minutes awaiting approval",
    MeetingStatus.minutes_approved: "minutes approved",
}


@dataclass(frozen=True)
class MemberOption:
    id: int
    name: str
    role: str
    agency: str


@dataclass(frozen=True)
class AttendanceView:
    """Attendance by name (staff, not client data): for the page, the minutes and the print."""

    recorded: bool
    attended: list[str]
    absent: list[str]
    recorder: str | None
    checked: frozenset[int] = frozenset()
    recorder_id: int | None = None


@dataclass
class WorkGroupPage(Page):
    """Shared by every work-group page: the words and choices the templates need."""

    categories: list[Category] = field(default_factory=lambda: list(Category))
    withheld_words: dict[WithheldReason, str] = field(default_factory=lambda: WITHHELD_WORDS)
    status_words: dict[MeetingStatus, str] = field(default_factory=lambda: STATUS_WORDS)
    kind_labels: dict[AgendaItemKind, str] = field(default_factory=lambda: dict(KIND_LABELS))
    notice_short: str = REDISCLOSURE_NOTICE_SHORT
    error: str | None = None


@dataclass
class IndexPage(WorkGroupPage):
    meetings: list[WorkGroupMeeting] = field(default_factory=list)
    series: list[MeetingSeries] = field(default_factory=list)
    members: list[MemberOption] = field(default_factory=list)
    not_seen_days: int = 30
    is_coordinator: bool = False
    can_flag: bool = False
    flagged: bool = False


@dataclass
class MeetingPage(WorkGroupPage):
    agenda: AgendaView | None = None
    view: str = "agenda"  # agenda | minutes | print
    proposals: ProposalsView | None = None
    attendance: AttendanceView | None = None
    next_meeting: NextMeeting | None = None
    closing: ClosingCheck | None = None  # the check before closing, when it asks to confirm
    group_labels: dict[ProposalGroup, str] = field(default_factory=lambda: dict(GROUP_LABELS))
    dismissal_labels: dict[DismissalReason, str] = field(
        default_factory=lambda: dict(DISMISSAL_LABELS)
    )
    dismissal_note_max: int = DISMISSAL_NOTE_MAX
    names: dict[int, str] = field(default_factory=dict)
    members: list[MemberOption] = field(default_factory=list)
    reason_codes: list[ReasonCode] = field(default_factory=list)
    outcomes: list[DecisionOutcome] = field(default_factory=lambda: list(DecisionOutcome))
    action_statuses: list[ActionItemStatus] = field(default_factory=lambda: list(ActionItemStatus))
    is_coordinator: bool = False
    can_contribute: bool = False
    can_decide: bool = False
    printed_at: datetime | None = None

    @property
    def live(self) -> bool:
        """The agenda refreshes itself while members prepare and while the meeting runs."""
        return self.agenda is not None and self.agenda.meeting.status in (
            MeetingStatus.published,
            MeetingStatus.held,
        )
