"""The court-date pages' contexts: views of what the policy layer let this viewer see."""

from dataclasses import dataclass, field

from hub.disclosure.record_view import Identity, WithheldCategory
from hub.hearings.services import HearingItem, HistoryItem
from hub.vocabulary import HearingKind
from hub.web.templating import Page


@dataclass
class CalendarRow:
    item: HearingItem
    identity: Identity | WithheldCategory
    shows_legal: bool


@dataclass
class CalendarPage(Page):
    rows: list[CalendarRow] = field(default_factory=list)
    timezone: str = "UTC"


@dataclass
class MatterHearingsPage(Page):
    matter_id: int = 0
    offense_tracking_number: str = ""
    offenses: list[str] = field(default_factory=list)
    hearings: list[HearingItem] = field(default_factory=list)
    history: dict[int, list[HistoryItem]] = field(default_factory=dict)
    kinds: list[HearingKind] = field(default_factory=lambda: list(HearingKind))
    timezone: str = "UTC"
    problems: list[tuple[str, str]] = field(default_factory=list)
