"""What the charging, defense and privacy-review pages show, as typed contexts."""

from dataclasses import dataclass, field

from hub.arrests.services import ArrestFacts
from hub.charging.binding import BoundDisclosure
from hub.charging.breach_signals import BreachSignal
from hub.charging.defense_decisions import DefenseDecisionItem
from hub.charging.deputies import Deputy
from hub.charging.facts import MatterFacts
from hub.charging.models import ChargingDecision, ChargingMatter, DecisionFlag
from hub.charging.queue_order import QueueItem
from hub.disclosure.record_view import DisclosedRecord, Identity, WithheldCategory
from hub.referrals.rules import SiteRules
from hub.web.paging import Paging
from hub.web.templating import Page

Who = Identity | WithheldCategory


@dataclass(frozen=True)
class QueueRow:
    item: QueueItem
    identity: Who
    shows_legal: bool
    shows_clock: bool  # engagement: whether intake was done (42 CFR 2.35 consent)
    # The intake due date follows from the referral date alone: referral data.
    shows_due: bool = False


@dataclass
class QueuePage(Page):
    rows: list[QueueRow] = field(default_factory=list)
    paging: Paging | None = None


@dataclass
class MatterPage(Page):
    matter: ChargingMatter | None = None
    record: DisclosedRecord | None = None
    shows_legal: bool = False
    decisions: list[ChargingDecision] = field(default_factory=list)
    superseded_by: dict[int, int] = field(default_factory=dict)
    standing: ChargingDecision | None = None
    awaiting: bool = True
    arrest: ArrestFacts | None = None  # a reported arrest's offense, level and victim
    deputy_id: int | None = None
    deputies: list[Deputy] = field(default_factory=list)


@dataclass
class DecisionFormPage(Page):
    matter: ChargingMatter | None = None
    rules: SiteRules | None = None
    disclosures: list[BoundDisclosure] = field(default_factory=list)
    supersedes: ChargingDecision | None = None
    outcome: str = ""
    reason_codes: list[str] = field(default_factory=list)
    note: str = ""
    material: list[int] = field(default_factory=list)
    error: str | None = None
    facts: MatterFacts | None = None  # the referral's date and due date, where shown


@dataclass
class DecisionPage(Page):
    decision: ChargingDecision | None = None
    matter: ChargingMatter | None = None
    rules: SiteRules | None = None
    disclosures: list[BoundDisclosure] = field(default_factory=list)
    superseded_by: int | None = None
    flags: list[DecisionFlag] = field(default_factory=list)
    receipts: bool = False
    standing: bool = False
    created: bool = False


@dataclass(frozen=True)
class DefenseRow:
    item: DefenseDecisionItem
    identity: Who
    shows_legal: bool


@dataclass
class DefensePage(Page):
    rows: list[DefenseRow] = field(default_factory=list)
    flags: list[DecisionFlag] = field(default_factory=list)
    paging: Paging | None = None


@dataclass
class FlagsPage(Page):
    flags: list[DecisionFlag] = field(default_factory=list)
    signals: list[BreachSignal] = field(default_factory=list)
    can_review: bool = False
    error: str | None = None


@dataclass
class FlagPage(Page):
    flag: DecisionFlag | None = None
    can_review: bool = False
    error: str | None = None
