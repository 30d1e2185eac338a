"""What the client pages show, as typed contexts: a template gets client data only in the shape
the policy layer returned it (hub.disclosure.record), and a withheld category only as words."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hub.accounts.names import Names
from hub.clients.timeline import DeadlineTimeline
from hub.consents.models import Consent
from hub.consents.services import RecipientGroup, is_active, missing_elements
from hub.db import ident
from hub.disclosure.record_search import SearchHit
from hub.disclosure.record_view import DisclosedRecord, NoteEntry, WithheldCategory
from hub.vocabulary import AgencyKind, Category, ConsentKind, Purpose, WithheldReason
from hub.web.templating import Page

# Shown in place of a withheld category, after "Withheld: ". Short, in the program's words,
# and never a hint of what the withheld data is.
WITHHELD_WORDS: dict[WithheldReason, str] = {
    WithheldReason.admin: "administrators see no client data",
    WithheldReason.enforcement_rule: (
        "never shown to police or prosecution, nor for a charging decision, "
        "without a court order (42 CFR 2.12(d))"
    ),
    WithheldReason.wrong_purpose: "not shown for the purpose of this page",
    WithheldReason.not_on_caseload: "only for clients on your caseload",
    WithheldReason.not_related: "only for your own referrals or your office's matters",
    WithheldReason.no_consent: "no consent naming your office",
    WithheldReason.part2: "no Part 2 consent (42 CFR 2.31) naming your office",
    WithheldReason.break_glass_required: "open a break-glass request first",
    WithheldReason.deny_by_default: "no policy allows it",
    WithheldReason.not_requested: "not part of this request",
}

CATEGORY_TITLES: dict[Category, str] = {
    Category.identity: "Identity",
    Category.demographics: "Demographics",
    Category.contact: "Contact",
    Category.referral: "Referrals",
    Category.legal: "Legal matters",
    Category.engagement: "Engagement",
    Category.plan: "Plan",
    Category.housing: "Housing",
    Category.health: "Health",
    Category.treatment: "Treatment (42 CFR Part 2)",
}


def withheld_text(reason: WithheldReason) -> str:
    return f"Withheld: {WITHHELD_WORDS[reason]}"


def display_name(record: DisclosedRecord) -> str | None:
    identity = record.identity
    if isinstance(identity, WithheldCategory):
        return None
    return f"{identity.first_name} {identity.last_name}"


@dataclass(frozen=True)
class SectionView:
    """One category of one record: its data, or why it is withheld (never both)."""

    person_id: int
    category: Category
    title: str
    data: Any  # the typed section from hub.disclosure.record, or None when withheld
    withheld: str | None
    notes: tuple[NoteEntry, ...] = ()  # the case notes filed under this category

    @property
    def part2_withheld(self) -> str | None:
        """Why entries a Part 2 program recorded are left out of this section, in words."""
        reason = getattr(self.data, "part2_withheld", None)
        return WITHHELD_WORDS[reason] if reason is not None else None

    @classmethod
    def of(cls, record: DisclosedRecord, category: Category) -> "SectionView":
        section = record.section(category)
        withheld = isinstance(section, WithheldCategory)
        return cls(
            person_id=record.person_id,
            category=category,
            title=CATEGORY_TITLES[category],
            data=None if withheld else section,
            withheld=withheld_text(section.reason) if withheld else None,
            notes=tuple(n for n in record.notes if n.category == category),
        )


@dataclass
class SearchPage(Page):
    name: str = ""
    date_of_birth: str = ""
    searched: bool = False
    hits: tuple[SearchHit, ...] = ()
    error: str | None = None


@dataclass
class RecordPage(Page):
    person_id: int = 0
    name: str = ""
    purpose: Purpose | None = None
    sections: list[SectionView] = field(default_factory=list)
    notes: tuple[NoteEntry, ...] = ()
    # 42 CFR 2.32: set when the page holds treatment data; base.html's part2_notice shows it.
    notice: str | None = None
    note_categories: list[Category] = field(default_factory=list)
    can_manage_consents: bool = False
    note_error: str | None = None
    note_body: str = ""
    note_category: str = ""
    # A fragment returned alone carries its own notice; inside the page the page's one does.
    standalone: bool = False
    # Officers, case managers and offices named in the sections, by name (not client data).
    staff: Names = field(default_factory=Names)
    codes: dict[str, str] = field(default_factory=dict)  # the site's codes by their labels
    # The intake clock as a picture, from the engagement section above (None if withheld).
    timeline: DeadlineTimeline | None = None


@dataclass(frozen=True)
class ConsentRow:
    """A consent with every 42 CFR 2.31 element, in words, and whether it is in effect."""

    id: int
    kind: ConsentKind
    discloser: str
    recipient: str
    categories: list[str]
    purposes: list[str]
    description: str
    right_to_revoke: str
    expires_on: date | None
    expiry_event: str | None
    irrevocable_until: str | None
    signed_by: str
    signature_on_file: bool
    signed_on: date
    revoked_at: datetime | None
    status: str  # in effect | revoked | expired | not yet signed | incomplete
    missing: list[str]

    @classmethod
    def of(cls, consent: Consent, now: datetime, agency_names: dict[int, str]) -> "ConsentRow":
        missing = missing_elements(consent)
        if consent.revoked_at is not None and consent.revoked_at <= now:
            status = "revoked"
        elif missing:
            status = "incomplete"
        elif is_active(consent, now):
            status = "in effect"
        elif consent.signed_on > now.date():
            status = "not yet signed"
        else:
            status = "expired"
        return cls(
            id=ident(consent.id),
            kind=consent.kind,
            discloser=agency_names.get(consent.discloser_agency_id, "?"),
            recipient=_recipient(consent, agency_names),
            categories=list(consent.categories),
            purposes=list(consent.purposes),
            description=consent.description,
            right_to_revoke=consent.right_to_revoke,
            expires_on=consent.expires_on,
            expiry_event=consent.expiry_event,
            irrevocable_until=consent.irrevocable_until,
            signed_by=consent.signed_by,
            signature_on_file=consent.signature_on_file,
            signed_on=consent.signed_on,
            revoked_at=consent.revoked_at,
            status=status,
            missing=missing,
        )


def _recipient(consent: Consent, agency_names: dict[int, str]) -> str:
    if consent.recipient_user_id is not None:
        return f"staff member #{consent.recipient_user_id}"
    if consent.recipient_agency_id is not None:
        return agency_names.get(consent.recipient_agency_id, "?")
    if consent.recipient_agency_kind is not None:
        return f"every {AgencyKind(consent.recipient_agency_kind).value.replace('_', ' ')} agency"
    return "(none named)"


@dataclass
class ConsentsPage(Page):
    person_id: int = 0
    name: str = ""
    consents: list[ConsentRow] = field(default_factory=list)
    error: str | None = None


@dataclass
class ConsentPrintPage(Page):
    person_id: int = 0
    name: str = ""
    consent: ConsentRow | None = None
    printed_at: datetime | None = None


@dataclass
class ConsentFormPage(Page):
    person_id: int = 0
    name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    agencies: list[tuple[int, str]] = field(default_factory=list)
    recipient_groups: list[RecipientGroup] = field(default_factory=list)
    kinds: list[ConsentKind] = field(default_factory=lambda: list(ConsentKind))
    categories: list[Category] = field(default_factory=lambda: list(Category))
    purposes: list[Purpose] = field(default_factory=lambda: list(Purpose))
    error: str | None = None


@dataclass
class BreakGlassPage(Page):
    person_id: str = ""
    reason: str = ""
    error: str | None = None
    glass_id: int | None = None
    opened_at: datetime | None = None
    expires_at: datetime | None = None
    open_now: bool = False
    record: RecordPage | None = None


@dataclass(frozen=True)
class AwaitingOrder:
    """A court order awaiting a second privacy officer's confirmation: the order's own terms
    (client by number only) and whether this viewer may confirm it."""

    id: int
    person_id: int
    recipient: str
    court: str
    order_reference: str
    judge: str
    rule: str
    categories: list[str]
    purposes: list[str]
    issued_on: date
    expires_on: date | None
    confirmable: bool


@dataclass
class CourtOrderPage(Page):
    values: dict[str, Any] = field(default_factory=dict)
    agencies: list[tuple[int, str]] = field(default_factory=list)
    categories: list[Category] = field(default_factory=lambda: list(Category))
    purposes: list[Purpose] = field(default_factory=lambda: list(Purpose))
    rules: list[str] = field(default_factory=lambda: ["2.64", "2.65"])
    error: str | None = None
    recorded_id: int | None = None
    confirmed_id: int | None = None
    awaiting: list[AwaitingOrder] = field(default_factory=list)
    max_megabytes: int = 10
