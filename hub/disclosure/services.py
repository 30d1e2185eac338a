"""Privacy officers' writes to the policy's facts: court orders and break-glass requests.
Each is logged as a security event in the same transaction and committed."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.clients.models import Person
from hub.db import rollback_on_error, utcnow
from hub.disclosure.models import BreakGlass, CourtOrder
from hub.settings import get_settings
from hub.vocabulary import Category, Purpose, Role, SecurityEventTag

COURT_ORDER_RULES = frozenset({"2.64", "2.65"})
MIN_REASON_LENGTH = 20  # a reason a reviewer can judge, not "x"


class PrivacyActionError(ValueError):
    """A court order or break-glass request cannot be recorded as asked; nothing changed."""


def _require_privacy_officer(viewer: Viewer) -> None:
    if viewer.role != Role.privacy_officer:
        raise PrivacyActionError("Only a privacy officer can do this.")


def _require_person(db: Session, person_id: int) -> None:
    if db.get(Person, person_id) is None:
        raise PrivacyActionError(f"No client with id {person_id}.")


def _commit_logged(
    db: Session, row: Any, tag: SecurityEventTag, actor: Actor, detail: dict[str, Any]
) -> None:
    db.add(row)
    db.flush()
    event = Event(
        kind="security",
        tag=tag.value,
        outcome="success",
        person_id=row.person_id,
        categories=list(getattr(row, "categories", [])),
        detail={"id": row.id, **detail},
    )
    append_and_commit(db, actor, event)


@dataclass(frozen=True)
class CourtOrderForm:
    person_id: int
    recipient_agency_id: int
    categories: list[Category]
    purposes: list[Purpose]
    court: str
    order_reference: str
    rule: str  # 2.64 | 2.65
    scope: str
    issued_on: date
    expires_on: date | None = None


def record_court_order(
    db: Session, viewer: Viewer, form: CourtOrderForm, actor: Actor
) -> CourtOrder:
    """Records a 42 CFR 2.64/2.65 court order for one named client, one recipient agency and
    the categories and purposes it covers. Privacy officers only. Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        _require_person(db, form.person_id)
        if db.get(Agency, form.recipient_agency_id) is None:
            raise PrivacyActionError("No such recipient agency.")
        if form.rule not in COURT_ORDER_RULES:
            raise PrivacyActionError("A court order is recorded under 42 CFR 2.64 or 2.65.")
        try:
            categories = sorted(Category(c).value for c in form.categories)
            purposes = sorted(Purpose(p).value for p in form.purposes)
        except ValueError as exc:
            raise PrivacyActionError(f"Unknown category or purpose: {exc}") from exc
        if not categories or not purposes:
            raise PrivacyActionError("Name the categories and purposes the order covers.")
        if not (form.court.strip() and form.order_reference.strip() and form.scope.strip()):
            raise PrivacyActionError("The court, the order's reference and its scope are required.")
        if form.expires_on is not None and form.expires_on < form.issued_on:
            raise PrivacyActionError("The order would expire before it was issued.")
        order = CourtOrder(
            person_id=form.person_id,
            recipient_agency_id=form.recipient_agency_id,
            categories=categories,
            purposes=purposes,
            court=form.court.strip(),
            order_reference=form.order_reference.strip(),
            rule=form.rule,
            scope=form.scope.strip(),
            issued_on=form.issued_on,
            expires_on=form.expires_on,
            recorded_by_id=viewer.user_id,
        )
        _commit_logged(
            db,
            order,
            SecurityEventTag.court_order_recorded,
            actor,
            {
                "recipient_agency_id": form.recipient_agency_id,
                "rule": form.rule,
                "purposes": purposes,
            },
        )
        return order


def open_break_glass(
    db: Session, viewer: Viewer, person_id: int, reason: str, actor: Actor
) -> BreakGlass:
    """Opens a privacy officer's time-boxed access to one client's record for oversight; it
    expires by itself after settings.break_glass_minutes and stays flagged for review. Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        _require_person(db, person_id)
        reason = reason.strip()
        if len(reason) < MIN_REASON_LENGTH:
            raise PrivacyActionError(
                f"State the reason for breaking the glass (at least {MIN_REASON_LENGTH} "
                "characters)."
            )
        now = utcnow()
        glass = BreakGlass(
            user_id=viewer.user_id,
            person_id=person_id,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(minutes=get_settings().break_glass_minutes),
        )
        _commit_logged(
            db,
            glass,
            SecurityEventTag.break_glass_opened,
            actor,
            {"reason": reason, "expires_at": glass.expires_at.isoformat(), "review": "required"},
        )
        return glass


def review_break_glass(db: Session, viewer: Viewer, glass_id: int, actor: Actor) -> BreakGlass:
    """Clears a break-glass flag. The reviewer must be a privacy officer other than the one who
    opened it. Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        glass = db.get(BreakGlass, glass_id)
        if glass is None:
            raise PrivacyActionError("No such break-glass request.")
        if glass.user_id == viewer.user_id:
            raise PrivacyActionError(
                "A break-glass request is reviewed by another privacy officer."
            )
        if glass.reviewed_at is not None:
            raise PrivacyActionError("This break-glass request is already reviewed.")
        glass.reviewed_at = utcnow()
        glass.reviewed_by_id = viewer.user_id
        _commit_logged(db, glass, SecurityEventTag.break_glass_reviewed, actor, {})
        return glass


def own_break_glass(db: Session, viewer: Viewer, glass_id: int) -> BreakGlass:
    """A break-glass request the viewer opened (to show its time box); PrivacyActionError for
    any other, whether or not it exists."""
    _require_privacy_officer(viewer)
    glass = db.get(BreakGlass, glass_id)
    db.commit()  # SQLite: a read must not hold the write lock for the rest of the request
    if glass is None or glass.user_id != viewer.user_id:
        raise PrivacyActionError("No such break-glass request of yours.")
    return glass
