"""What each page of the privacy console shows: log metadata, staff and codes, never client
content (hub.privacy.routes and its siblings fill them)."""

from dataclasses import dataclass, field
from datetime import date

from hub.accounts.models import User
from hub.audit.models import LogEntry
from hub.charging.models import DecisionFlag
from hub.privacy.accounting import Accounting
from hub.privacy.activity import ConsoleActivity
from hub.privacy.letter import LetterSection
from hub.privacy.models import ReviewFlag
from hub.privacy.search import BASIS_KINDS, TAGS, Disclosure, LogPage, Names
from hub.vocabulary import Category, FlagRule, LogKind, LogOutcome, Purpose, Role
from hub.web.templating import Page

# Charging-decision flags and breach signals have their pages in the charging domain.
DECISION_FLAGS_URL = "/flags"


@dataclass
class Choices:
    """What the filter form offers (codes and staff, never clients)."""

    users: list[tuple[int, str]]
    agencies: list[tuple[int, str]]
    roles: list[str] = field(default_factory=lambda: [r.value for r in Role])
    categories: list[str] = field(default_factory=lambda: [c.value for c in Category])
    purposes: list[str] = field(default_factory=lambda: [p.value for p in Purpose])
    kinds: list[str] = field(default_factory=lambda: [k.value for k in LogKind])
    outcomes: list[str] = field(default_factory=lambda: [o.value for o in LogOutcome])
    tags: tuple[str, ...] = TAGS
    bases: tuple[str, ...] = BASIS_KINDS


@dataclass
class ConsolePage(Page):
    choices: Choices | None = None
    filters: dict[str, str] = field(default_factory=dict)
    results: LogPage | None = None
    names: Names = field(default_factory=Names)
    error: str | None = None
    open_flags: int = 0
    activity: ConsoleActivity | None = None  # counts only (hub.privacy.activity)


@dataclass
class EntryPage(Page):
    entry: LogEntry | None = None
    detail_json: str = ""
    names: Names = field(default_factory=Names)


@dataclass
class UserTimelinePage(Page):
    user: User | None = None
    agency_name: str = ""
    results: LogPage | None = None
    names: Names = field(default_factory=Names)
    flags: list[ReviewFlag] = field(default_factory=list)


@dataclass
class ClientTimelinePage(Page):
    person_id: int = 0
    disclosures: list[Disclosure] = field(default_factory=list)
    # Numbers merged with this one (hub.person_merges): their disclosures are the client's too.
    merged_with: list[int] = field(default_factory=list)
    next_before: int | None = None
    names: Names = field(default_factory=Names)


@dataclass
class AccountingFormPage(Page):
    person_id: int = 0
    today: date | None = None
    hipaa_since: date | None = None
    part2_since: date | None = None
    error: str | None = None


@dataclass
class AccountingPage(Page):
    accounting: Accounting | None = None
    names: Names = field(default_factory=Names)
    generated_by: str = ""
    # The letter to hand to the client: the same accounting in plain words.
    letter: list[LetterSection] = field(default_factory=list)


@dataclass
class FlagsPage(Page):
    flags: list[ReviewFlag] = field(default_factory=list)
    next_before: int | None = None
    status_filter: str = "open"
    rule_filter: str = ""
    rules: list[str] = field(default_factory=lambda: [r.value for r in FlagRule])
    names: Names = field(default_factory=Names)
    decision_flags: list[DecisionFlag] = field(default_factory=list)
    breach_signals: list[LogEntry] = field(default_factory=list)
    decision_flags_url: str = DECISION_FLAGS_URL


@dataclass
class FlagPage(Page):
    flag: ReviewFlag | None = None
    entries: list[LogEntry] = field(default_factory=list)
    names: Names = field(default_factory=Names)
    error: str | None = None
