"""A defender's clients (issue 15, item 4): each current client's matters with what the
defender can still act on (the standing decision, the intake due date, the next court date)
and the open flags on decisions about them. Ids and the matters' own fields only: the page
shows them where the policy layer allows the client's legal and engagement categories."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingMatter, DecisionFlag
from hub.clients.models import ClientAssignment
from hub.db import ident
from hub.hearings.models import CourtHearing
from hub.hearings.services import local
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.vocabulary import AssignmentKind, DecisionOutcome, FlagStatus, HearingKind


@dataclass(frozen=True)
class MatterLine:
    matter_id: int
    offense_tracking_number: str
    offenses: list[str]
    arrested_at: datetime
    intake_due_on: date | None  # an arrest referral's clock (engagement); None for a new arrest
    standing_outcome: DecisionOutcome | None
    open: bool  # no decision yet, or more information asked: the defender can still act
    next_court_date: str | None
    next_court_kind: HearingKind | None


@dataclass(frozen=True)
class ClientLine:
    person_id: int
    assigned_at: datetime
    matters: list[MatterLine]
    open_flags: int


def defense_clients(db: Session, defender: Viewer, now: datetime, tz: tzinfo) -> list[ClientLine]:
    """The defender's current clients, newest appointment first; each client's matters open
    ones first, then by arrest, newest first."""
    assignments = db.exec(
        select(ClientAssignment)
        .where(
            ClientAssignment.user_id == defender.user_id,
            ClientAssignment.kind == AssignmentKind.defense,
            col(ClientAssignment.ended_at).is_(None),
        )
        .order_by(col(ClientAssignment.started_at).desc(), col(ClientAssignment.id).desc())
    ).all()
    since: dict[int, datetime] = {}
    for a in assignments:
        since.setdefault(a.person_id, a.started_at)
    persons = list(since)
    rows = db.exec(
        select(ChargingMatter, Referral)
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(col(ChargingMatter.person_id).in_(persons))
    ).all()
    matter_ids = [m.id for m, _ in rows if m.id is not None]
    standing = current_decisions(db, matter_ids)
    upcoming: dict[int, CourtHearing] = {}
    for hearing in db.exec(
        select(CourtHearing)
        .where(
            col(CourtHearing.matter_id).in_(matter_ids),
            col(CourtHearing.cancelled_at).is_(None),
            col(CourtHearing.starts_at) >= now,
        )
        .order_by(col(CourtHearing.starts_at).desc())
    ):
        upcoming[hearing.matter_id] = hearing  # the last written is the soonest
    matters: dict[int, list[MatterLine]] = defaultdict(list)
    for matter, referral in rows:
        decision = standing.get(ident(matter.id))
        soonest = upcoming.get(ident(matter.id))
        matters[matter.person_id].append(
            MatterLine(
                matter_id=ident(matter.id),
                offense_tracking_number=matter.offense_tracking_number,
                offenses=list(matter.offenses),
                arrested_at=matter.arrested_at,
                intake_due_on=referral.intake_due_on if referral else None,
                standing_outcome=decision.outcome if decision else None,
                open=decision is None or decision.outcome == DecisionOutcome.more_information,
                next_court_date=local(soonest.starts_at, tz) if soonest else None,
                next_court_kind=soonest.kind if soonest else None,
            )
        )
    flags: dict[int, int] = defaultdict(int)
    for person_id in db.exec(
        select(DecisionFlag.person_id).where(
            col(DecisionFlag.person_id).in_(persons), DecisionFlag.status == FlagStatus.open
        )
    ):
        flags[person_id] += 1
    return [
        ClientLine(
            person_id=pid,
            assigned_at=since[pid],
            matters=sorted(
                matters[pid], key=lambda m: (not m.open, -m.arrested_at.timestamp(), -m.matter_id)
            ),
            open_flags=flags[pid],
        )
        for pid in persons
    ]
