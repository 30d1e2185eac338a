"""What every charging step checks: the error a refused step raises, the prosecutor's role,
and that a matter belongs to the prosecutor's office."""

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingMatter
from hub.permissions import authorize
from hub.vocabulary import Action


class ChargingError(ValueError):
    """A charging step breaks a rule; the message says which. Nothing was changed."""


def require_prosecutor(viewer: Viewer) -> None:
    """Charging decisions, the queue and the export are the prosecutor's alone."""
    authorize(
        viewer,
        Action.charging_decide,
        ChargingError(f"a {viewer.role.value} may not make charging decisions"),
    )


def _matter_for(db: Session, prosecutor: Viewer, matter_id: int) -> ChargingMatter:
    matter = db.get(ChargingMatter, matter_id)
    if matter is None or matter.prosecuting_agency_id != prosecutor.agency_id:
        raise ChargingError("no such matter for your office")
    return matter


def matter_for(db: Session, prosecutor: Viewer, matter_id: int) -> ChargingMatter:
    """A matter of the prosecutor's office; another office's answers as none."""
    require_prosecutor(prosecutor)
    return _matter_for(db, prosecutor, matter_id)
