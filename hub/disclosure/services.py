"""Privacy officers' writes to the policy's facts: court orders and break-glass requests.
Each is logged as a security event in the same transaction and committed."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NoReturn

from sqlmodel import Session, col, select

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.clients.models import Person
from hub.db import ident, rollback_on_error, utcnow
from hub.disclosure.models import BreakGlass, CourtOrder, CourtOrderDocument
from hub.notifications.services import notify, users_with_role
from hub.settings import get_settings
from hub.vocabulary import Category, NotificationKind, Purpose, Role, SecurityEventTag

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


def _refuse(db: Session, actor: Actor, action: str, message: str, **ids: int) -> NoReturn:
    """An insider path (widening one's own access): nothing is kept but the refusal, logged."""
    db.rollback()
    append_refusal(db, actor, {"action": action, **ids})
    raise PrivacyActionError(message)


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
    expires_on: date | None
    judge: str
    document: bytes  # the order's copy, a PDF


PDF_MAGIC = b"%PDF-"


def _check_document(document: bytes) -> None:
    # The bytes decide, not the browser's content type or the file name.
    if not document.startswith(PDF_MAGIC):
        raise PrivacyActionError("Upload the court order's copy as a PDF.")
    limit = get_settings().court_order_max_bytes
    if len(document) > limit:
        raise PrivacyActionError(f"The copy is larger than {limit // (1024 * 1024) or 1} MB.")


def record_court_order(
    db: Session, viewer: Viewer, form: CourtOrderForm, actor: Actor
) -> CourtOrder:
    """Records a 42 CFR 2.64/2.65 court order for one named client, one recipient agency and
    the categories and purposes it covers, with its copy sealed at rest. Privacy officers
    only, never naming their own agency; it grants nothing until another privacy officer
    confirms it (confirm_court_order). Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        if form.recipient_agency_id == viewer.agency_id:
            _refuse(
                db,
                actor,
                "court_order:record_own_agency",
                "A privacy officer cannot record a court order naming their own agency.",
                person_id=form.person_id,
            )
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
        if not all(v.strip() for v in (form.court, form.order_reference, form.scope, form.judge)):
            raise PrivacyActionError(
                "The court, the judge, the order's reference and its scope are required."
            )
        if form.expires_on is None:
            raise PrivacyActionError("Give the date the order expires.")
        if form.expires_on < form.issued_on:
            raise PrivacyActionError("The order would expire before it was issued.")
        _check_document(form.document)
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
            judge=form.judge.strip(),
            recorded_by_id=viewer.user_id,
        )
        db.add(order)
        db.flush()
        digest = hashlib.sha256(form.document).hexdigest()
        db.add(
            CourtOrderDocument(
                court_order_id=ident(order.id),
                content=base64.b64encode(form.document).decode(),
                size_bytes=len(form.document),
                sha256=digest,
                uploaded_by_id=viewer.user_id,
            )
        )
        others = [u for u in users_with_role(db, Role.privacy_officer) if u != viewer.user_id]
        notify(
            db,
            others,
            NotificationKind.court_order_awaiting,
            "/privacy/court-orders",
            f"court_order_awaiting:{order.id}",
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
                "document_sha256": digest,
                "confirmation": "required",
            },
        )
        return order


def confirm_court_order(db: Session, viewer: Viewer, order_id: int, actor: Actor) -> CourtOrder:
    """Puts a recorded court order in force: a privacy officer other than its recorder, and not
    of the agency it names, confirms it (CJIS AC-5). Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        order = db.get(CourtOrder, order_id)
        if order is None:
            raise PrivacyActionError("No such court order.")
        if order.recorded_by_id == viewer.user_id:
            _refuse(
                db,
                actor,
                "court_order:confirm_own",
                "A court order is confirmed by a privacy officer other than the one who "
                "recorded it.",
                court_order_id=order_id,
            )
        if order.recipient_agency_id == viewer.agency_id:
            _refuse(
                db,
                actor,
                "court_order:confirm_own_agency",
                "A privacy officer cannot confirm a court order naming their own agency.",
                court_order_id=order_id,
            )
        if order.confirmed_at is not None:
            raise PrivacyActionError("This court order is already confirmed.")
        order.confirmed_by_id = viewer.user_id
        order.confirmed_at = utcnow()
        _commit_logged(
            db,
            order,
            SecurityEventTag.court_order_confirmed,
            actor,
            {
                "recipient_agency_id": order.recipient_agency_id,
                "recorded_by_id": order.recorded_by_id,
            },
        )
        return order


@dataclass(frozen=True)
class CourtOrderCopy:
    court_order_id: int
    content: bytes


def court_order_copy(db: Session, viewer: Viewer, order_id: int, actor: Actor) -> CourtOrderCopy:
    """The uploaded copy of a court order, for a privacy officer; each read is logged. Commits."""
    with rollback_on_error(db):
        _require_privacy_officer(viewer)
        document = db.exec(
            select(CourtOrderDocument).where(CourtOrderDocument.court_order_id == order_id)
        ).first()
        order = db.get(CourtOrder, order_id)
        if document is None or order is None:
            raise PrivacyActionError("No copy of such a court order.")
        content = base64.b64decode(document.content)
        _commit_logged(
            db,
            order,
            SecurityEventTag.court_order_document_read,
            actor,
            {"sha256": document.sha256},
        )
        return CourtOrderCopy(order_id, content)


def court_orders_awaiting(db: Session) -> list[CourtOrder]:
    """Court orders recorded and not yet confirmed, oldest first (the confirmation queue)."""
    orders = list(
        db.exec(
            select(CourtOrder)
            .where(col(CourtOrder.confirmed_at).is_(None))
            .order_by(col(CourtOrder.id))
        )
    )
    db.commit()  # SQLite: a read must not hold the write lock for the rest of the request
    return orders


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
