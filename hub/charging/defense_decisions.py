"""The defender's view: decisions on their own clients, with what kinds of information reached
the prosecutor before each (categories and purposes of the bound disclosures, no content)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.charging.binding import bound_disclosures
from hub.charging.checks import ChargingError
from hub.charging.deciding import superseded_by
from hub.charging.decision_flags import defender_clients
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.db import ident
from hub.permissions import authorize
from hub.vocabulary import Action, DecisionOutcome


@dataclass(frozen=True)
class DefenseDecisionItem:
    """A decision on a defender's client, with what kinds of information reached the
    prosecutor before it (from the bound disclosures: categories and purposes, no content)."""

    decision_id: int
    matter_id: int
    person_id: int
    offense_tracking_number: str
    outcome: DecisionOutcome
    decided_at: datetime
    reason_codes: list[str]
    superseded: bool
    categories: list[str]
    purposes: list[str]
    disclosures: int
    material: int


def _defense_clients(defender: Viewer) -> Any:
    """The defender's clients as a subquery (see defender_clients)."""
    authorize(
        defender,
        Action.defense_decisions,
        ChargingError(f"a {defender.role.value} has no defense clients"),
    )
    return defender_clients(defender.user_id)


def defense_decision_count(db: Session, defender: Viewer) -> int:
    """How many decisions there are on the defender's clients, counted by the database."""
    return db.exec(
        select(func.count())
        .select_from(ChargingDecision)
        .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
        .where(col(ChargingMatter.person_id).in_(_defense_clients(defender)))
    ).one()


def defense_decisions(
    db: Session, defender: Viewer, *, offset: int = 0, limit: int | None = None
) -> list[DefenseDecisionItem]:
    """Decisions on the defender's own clients, newest first; `offset`/`limit`: one page of
    them, cut by the database."""
    rows = list(
        db.exec(
            select(ChargingDecision, ChargingMatter)
            .join(ChargingMatter, col(ChargingMatter.id) == ChargingDecision.matter_id)
            .where(col(ChargingMatter.person_id).in_(_defense_clients(defender)))
            # Newest first by when it was decided (issue 15): the id is only a tiebreak.
            .order_by(col(ChargingDecision.decided_at).desc(), col(ChargingDecision.id).desc())
            .offset(offset)
            .limit(limit)
        )
    )
    ids = [ident(d.id) for d, _ in rows]
    bound = bound_disclosures(db, ids)
    corrected = superseded_by(db, ids)
    items = []
    for decision, matter in rows:
        entries = bound[ident(decision.id)]
        items.append(
            DefenseDecisionItem(
                decision_id=ident(decision.id),
                matter_id=ident(matter.id),
                person_id=matter.person_id,
                offense_tracking_number=matter.offense_tracking_number,
                outcome=decision.outcome,
                decided_at=decision.decided_at,
                reason_codes=list(decision.reason_codes),
                superseded=ident(decision.id) in corrected,
                categories=sorted({c for e in entries for c in e.categories}),
                purposes=sorted({e.purpose for e in entries if e.purpose}),
                disclosures=len(entries),
                material=sum(e.material for e in entries),
            )
        )
    return items
