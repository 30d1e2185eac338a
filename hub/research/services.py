"""Research protocols: recorded by the program office or a privacy officer, in force once
another privacy officer confirms them (no one widens access alone, CJIS AC-5). Each step is a
security event committed with the change."""

from datetime import date
from typing import Any, NoReturn

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.db import rollback_on_error, utcnow
from hub.permissions import allowed
from hub.research.models import ResearchProtocol
from hub.research.variables import VARIABLES, needs_part2
from hub.vocabulary import Action, LogKind, LogOutcome, SecurityEventTag

MIN_DETERMINATION_LENGTH = 20  # words a reviewer can judge, not "ok"
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class ResearchError(ValueError):
    """A protocol cannot be recorded or confirmed, or an export made, as asked; nothing
    changed. `problems` lists every reason at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class ProtocolForm(BaseModel):
    """What the recorder copies from the IRB approval and the data-use agreement."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    irb_number: str = Field(min_length=1, max_length=100)
    data_use_agreement: str = Field(min_length=1, max_length=200)
    recipient_name: str = Field(min_length=1, max_length=200)
    recipient_organisation: str = Field(min_length=1, max_length=200)
    # Dates too far in the past or future are refused, as everywhere in the hub.
    approved_from: date = Field(ge=EARLIEST, le=LATEST)
    expires_on: date = Field(ge=EARLIEST, le=LATEST)
    variables: list[str] = Field(min_length=1, max_length=len(VARIABLES))
    part2_conditions_met: bool = False
    part2_determined_by: str | None = Field(default=None, max_length=200)
    part2_determination: str | None = Field(default=None, max_length=1000)


def _require(viewer: Viewer, action: Action) -> None:
    if not allowed(viewer.role, action):
        raise ResearchError(["Your role cannot do this."])


def _refuse(db: Session, actor: Actor, action: str, message: str, **ids: int) -> NoReturn:
    db.rollback()
    append_refusal(db, actor, {"action": action, **ids})
    raise ResearchError([message])


def form_problems(form: ProtocolForm) -> list[str]:
    """Every reason the form cannot be recorded, at once (beyond the fields' own types)."""
    problems = []
    unknown = sorted(set(form.variables) - VARIABLES.keys())
    if unknown:
        problems.append(f"Not exportable variables: {', '.join(unknown)}.")
    if form.expires_on < form.approved_from:
        problems.append("The approval would expire before it starts.")
    if needs_part2(form.variables) and not form.part2_conditions_met:
        problems.append(
            "Treatment variables need the program director's 42 CFR 2.52 determination."
        )
    if form.part2_conditions_met and (
        not (form.part2_determined_by or "").strip()
        or len((form.part2_determination or "").strip()) < MIN_DETERMINATION_LENGTH
    ):
        problems.append(
            "Record who determined the 42 CFR 2.52 conditions are met and their determination "
            f"(at least {MIN_DETERMINATION_LENGTH} characters)."
        )
    return problems


def _logged(db: Session, protocol: ResearchProtocol, tag: SecurityEventTag, actor: Actor) -> None:
    detail: dict[str, Any] = {
        "protocol_id": protocol.id,
        "irb_number": protocol.irb_number,
        "variables": sorted(protocol.variables),
        "part2_conditions_met": protocol.part2_conditions_met,
        "expires_on": protocol.expires_on.isoformat(),
        "recorded_by_id": protocol.recorded_by_id,
    }
    event = Event(kind=LogKind.security, tag=tag, outcome=LogOutcome.success, detail=detail)
    append_and_commit(db, actor, event)


def record_protocol(
    db: Session, viewer: Viewer, form: ProtocolForm, actor: Actor
) -> ResearchProtocol:
    """Records an approved study. It allows no export until another privacy officer confirms
    it (confirm_protocol). Commits, with the security event."""
    _require(viewer, Action.research_protocols)
    problems = form_problems(form)
    if problems:
        raise ResearchError(problems)
    with rollback_on_error(db):
        protocol = ResearchProtocol(
            **form.model_dump(exclude={"variables"}),
            variables=sorted(set(form.variables)),
            recorded_by_id=viewer.user_id,
        )
        if not protocol.part2_conditions_met:
            protocol.part2_determined_by = protocol.part2_determination = None
        db.add(protocol)
        db.flush()
        _logged(db, protocol, SecurityEventTag.research_protocol_recorded, actor)
        return protocol


def confirm_protocol(
    db: Session, viewer: Viewer, protocol_id: int, actor: Actor
) -> ResearchProtocol:
    """Puts a recorded protocol in force: a privacy officer other than its recorder confirms
    it (CJIS AC-5); confirming one's own is refused and logged. Commits."""
    _require(viewer, Action.research_protocols_confirm)
    with rollback_on_error(db):
        protocol = db.get(ResearchProtocol, protocol_id)
        if protocol is None:
            raise ResearchError(["No such research protocol."])
        if protocol.recorded_by_id == viewer.user_id:
            _refuse(
                db,
                actor,
                "research_protocol:confirm_own",
                "A research protocol is confirmed by a privacy officer other than its recorder.",
                protocol_id=protocol_id,
            )
        if protocol.confirmed_at is not None:
            raise ResearchError(["This research protocol is already confirmed."])
        protocol.confirmed_by_id = viewer.user_id
        protocol.confirmed_at = utcnow()
        db.add(protocol)
        db.flush()
        _logged(db, protocol, SecurityEventTag.research_protocol_confirmed, actor)
        return protocol


def protocol_problems(
    protocol: ResearchProtocol | None, variables: list[str], today: date
) -> list[str]:
    """Why an export of these variables under this protocol would be refused (empty: none)."""
    if protocol is None:
        return ["No such research protocol."]
    problems = []
    if protocol.confirmed_at is None:
        problems.append("The protocol is not in force until a second privacy officer confirms.")
    if today < protocol.approved_from:
        problems.append("The protocol's approval has not started.")
    if today > protocol.expires_on:
        problems.append("The protocol's approval has expired.")
    if not variables:
        problems.append("Choose at least one variable.")
    unapproved = sorted(set(variables) - set(protocol.variables))
    if unapproved:
        problems.append(f"Variables the protocol does not approve: {', '.join(unapproved)}.")
    if needs_part2(variables) and not protocol.part2_conditions_met:
        problems.append("Treatment data needs the 42 CFR 2.52 determination.")
    return problems


def list_protocols(db: Session) -> list[ResearchProtocol]:
    """Every protocol, newest first (ids, dates and approvals: no client data)."""
    found = list(db.exec(select(ResearchProtocol).order_by(col(ResearchProtocol.id).desc())))
    db.commit()  # SQLite: a read must not hold the write lock for the rest of the request
    return found
