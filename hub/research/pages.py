"""What the research pages show: views of protocols (no client data) and the k-anonymity
report of a refused export."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hub.research.deidentify import KAnonymityReport
from hub.research.models import ResearchProtocol
from hub.research.variables import VARIABLES, Variable
from hub.web.templating import Page


@dataclass(frozen=True)
class ProtocolView:
    id: int
    title: str
    irb_number: str
    data_use_agreement: str
    recipient: str
    approved_from: date
    expires_on: date
    variables: tuple[str, ...]
    part2_conditions_met: bool
    state: str  # awaiting_confirmation | in_force | expired | not_started
    recorded_by_viewer: bool

    @classmethod
    def of(cls, protocol: ResearchProtocol, viewer_id: int, today: date) -> "ProtocolView":
        if protocol.confirmed_at is None:
            state = "awaiting_confirmation"
        elif today > protocol.expires_on:
            state = "expired"
        elif today < protocol.approved_from:
            state = "not_started"
        else:
            state = "in_force"
        return cls(
            id=protocol.id or 0,
            title=protocol.title,
            irb_number=protocol.irb_number,
            data_use_agreement=protocol.data_use_agreement,
            recipient=f"{protocol.recipient_name}, {protocol.recipient_organisation}",
            approved_from=protocol.approved_from,
            expires_on=protocol.expires_on,
            variables=tuple(protocol.variables),
            part2_conditions_met=protocol.part2_conditions_met,
            state=state,
            recorded_by_viewer=protocol.recorded_by_id == viewer_id,
        )


@dataclass
class ProtocolsPage(Page):
    protocols: list[ProtocolView] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=lambda: list(VARIABLES.values()))
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    message: str | None = None
    report: KAnonymityReport | None = None


@dataclass
class HmisPage(Page):
    agencies: list[tuple[int, str]] = field(default_factory=list)
    recipient_agency_id: str = ""
    errors: list[str] = field(default_factory=list)
