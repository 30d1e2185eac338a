"""The deputy (liaison prosecutor) who handles a matter: named by a prosecutor of the office,
reassigned the same way. Who handled it when stays on record (hub.charging.models.MatterDeputy).

It grants no access: the deputy is a prosecutor of the same office, who sees the office's
matters already; it names who answers for the matter at the work group."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append
from hub.charging.checks import ChargingError, matter_for
from hub.charging.models import ChargingMatter, MatterDeputy
from hub.db import utcnow
from hub.vocabulary import Purpose, Role, SecurityEventTag, UserStatus


@dataclass(frozen=True)
class Deputy:
    """A prosecutor of the office who may be named on a matter: id and name only."""

    user_id: int
    name: str


def office_deputies(db: Session, prosecutor: Viewer) -> list[Deputy]:
    """The active prosecutors of the viewer's office, by name."""
    rows = db.exec(
        select(User.id, User.display_name)
        .where(
            User.agency_id == prosecutor.agency_id,
            User.role == Role.prosecutor,
            User.status == UserStatus.active,
        )
        .order_by(col(User.display_name), col(User.id))
    ).all()
    return [Deputy(user_id=uid, name=name) for uid, name in rows if uid is not None]


def current_deputy(db: Session, matter_id: int) -> MatterDeputy | None:
    return db.exec(
        select(MatterDeputy).where(
            MatterDeputy.matter_id == matter_id, col(MatterDeputy.ended_at).is_(None)
        )
    ).first()


def assign_deputy(
    db: Session,
    prosecutor: Viewer,
    matter_id: int,
    deputy_id: int,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> MatterDeputy:
    """Names the deputy of a matter of the viewer's office, ending the current assignment if
    there is one; a security event. Commits."""
    matter = matter_for(db, prosecutor, matter_id)
    # One assignment at a time per matter: two reassignments at once take turns.
    db.exec(select(ChargingMatter.id).where(ChargingMatter.id == matter.id).with_for_update())
    if deputy_id not in {d.user_id for d in office_deputies(db, prosecutor)}:
        raise ChargingError("name an active prosecutor of your office as the deputy")
    now = now or utcnow()
    current = current_deputy(db, matter_id)
    if current is not None:
        if current.deputy_id == deputy_id:
            raise ChargingError("that deputy already handles the matter")
        current.ended_at = now
        db.add(current)
    assignment = MatterDeputy(
        matter_id=matter_id,
        deputy_id=deputy_id,
        assigned_by_id=prosecutor.user_id,
        assigned_at=now,
    )
    db.add(assignment)
    db.flush()
    append(
        db,
        actor,
        Event(
            kind="security",
            tag=SecurityEventTag.matter_deputy_assigned.value,
            outcome="success",
            purpose=Purpose.charging_decision.value,
            person_id=matter.person_id,
            detail={
                "matter_id": matter_id,
                "deputy_id": deputy_id,
                "previous_deputy_id": current.deputy_id if current else None,
            },
        ),
    )
    db.commit()
    return assignment
