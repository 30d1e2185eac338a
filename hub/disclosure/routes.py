"""Privacy officers' pages: break-glass (a reason, then the time-boxed record); recording a
court order with its copy, confirming another officer's, downloading a copy. Thin:
hub.disclosure.services records, hub.disclosure.record reads and logs."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator
from sqlmodel import Session

from hub.accounts.names import staff_directory
from hub.accounts.sessions import Viewer
from hub.clients.pages import (
    AwaitingOrder,
    BreakGlassPage,
    CourtOrderPage,
    RecordPage,
    SectionView,
    display_name,
)
from hub.clients.purposes import record_purpose
from hub.clients.web import MAX_ID, read_record, refuse_nul
from hub.consents.services import agencies_by_name
from hub.db import ident, record_number, utcnow
from hub.disclosure import services
from hub.disclosure.services import CourtOrderForm, PrivacyActionError
from hub.documents.files import FileRefused, read_limited
from hub.referrals.rules import current_rules
from hub.settings import get_settings
from hub.vocabulary import Action, Category, Purpose
from hub.web.dependencies import DB, log_actor, require
from hub.web.templating import render

router = APIRouter(prefix="/privacy", include_in_schema=False)  # pages, not API

BreakGlassOfficer = Annotated[Viewer, Depends(require(Action.privacy_break_glass))]
CourtOrderOfficer = Annotated[Viewer, Depends(require(Action.privacy_court_orders))]
Text = Annotated[str, AfterValidator(refuse_nul)]
GlassId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _basics(viewer: Viewer, title: str) -> dict[str, Any]:
    return {"title": title, "viewer": viewer, "csrf_token": viewer.csrf_token}


def _id(value: str, what: str) -> int:
    if not value.strip().isdigit():
        raise PrivacyActionError(f"Give {what} as a number.")
    try:
        return record_number(value)
    except ValueError:
        raise PrivacyActionError(f"No such {what}.") from None


def _day(value: str, what: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PrivacyActionError(f"Give {what} as YYYY-MM-DD.") from None


# --- break-glass ----------------------------------------------------------------------------


@router.get("/break-glass", response_class=HTMLResponse)
def break_glass_form(request: Request, viewer: BreakGlassOfficer) -> HTMLResponse:
    page = BreakGlassPage(**_basics(viewer, "Break-glass access"))
    return render(request, "privacy/break_glass.html", page)


@router.post("/break-glass", response_class=HTMLResponse)
def open_break_glass(
    request: Request,
    db: DB,
    viewer: BreakGlassOfficer,
    person_id: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[Text, Form(max_length=1000)] = "",
) -> Response:
    try:
        glass = services.open_break_glass(
            db, viewer, _id(person_id, "client number"), reason, log_actor(request, viewer)
        )
    except PrivacyActionError as exc:
        page = BreakGlassPage(
            **_basics(viewer, "Break-glass access"),
            person_id=person_id,
            reason=reason,
            error=str(exc),
        )
        return render(request, "privacy/break_glass.html", page, 422)
    return RedirectResponse(f"/privacy/break-glass/{glass.id}", status.HTTP_303_SEE_OTHER)


def _glass_record(db: Session, viewer: Viewer, person_id: int, request: Request) -> RecordPage:
    record = read_record(db, viewer, person_id, record_purpose(viewer), request)
    return RecordPage(
        **_basics(viewer, "Break-glass access"),
        person_id=person_id,
        name=display_name(record) or "",
        purpose=record.purpose,
        sections=[SectionView.of(record, c) for c in Category],
        notes=record.notes,
        notice=record.notice,
        staff=staff_directory(db),
        codes=current_rules(db).code_labels,
    )


@router.get("/break-glass/{glass_id}", response_class=HTMLResponse)
def break_glass_record(
    request: Request, db: DB, viewer: BreakGlassOfficer, glass_id: GlassId
) -> HTMLResponse:
    try:
        glass = services.own_break_glass(db, viewer, glass_id)
    except PrivacyActionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    open_now = glass.opened_at <= utcnow() < glass.expires_at
    page = BreakGlassPage(
        **_basics(viewer, "Break-glass access"),
        person_id=str(glass.person_id),
        reason=glass.reason,
        glass_id=glass.id,
        opened_at=glass.opened_at,
        expires_at=glass.expires_at,
        open_now=open_now,
        # Only while the time box is open; after it the record is withheld again anyway.
        record=_glass_record(db, viewer, glass.person_id, request) if open_now else None,
    )
    return render(request, "privacy/break_glass_record.html", page)


# --- court orders ---------------------------------------------------------------------------


OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _court_order_page(db: Session, viewer: Viewer, **fields: Any) -> CourtOrderPage:
    agencies = [(a.id, a.name) for a in agencies_by_name(db)]
    names = dict(agencies)
    awaiting = [
        AwaitingOrder(
            id=ident(o.id),
            person_id=o.person_id,
            recipient=names.get(o.recipient_agency_id, "?"),
            court=o.court,
            order_reference=o.order_reference,
            judge=o.judge,
            rule=o.rule,
            categories=list(o.categories),
            purposes=list(o.purposes),
            issued_on=o.issued_on,
            expires_on=o.expires_on,
            # Another officer confirms it, and not one of the agency it names.
            confirmable=o.recorded_by_id != viewer.user_id
            and o.recipient_agency_id != viewer.agency_id,
        )
        for o in services.court_orders_awaiting(db)
    ]
    return CourtOrderPage(
        **_basics(viewer, "Court orders"),
        # Never their own agency: no privacy officer names it as a recipient.
        agencies=[a for a in agencies if a[0] != viewer.agency_id],  # type: ignore[misc]
        awaiting=awaiting,
        max_megabytes=max(get_settings().court_order_max_bytes // (1024 * 1024), 1),
        **fields,
    )


def _court_orders(
    request: Request, db: Session, viewer: Viewer, code: int = 200, **fields: Any
) -> HTMLResponse:
    """The court orders page: the queue awaiting confirmation and the form (empty unless
    `values` holds what was posted)."""
    fields.setdefault("values", {"rule": "2.64", "categories": [], "purposes": []})
    page = _court_order_page(db, viewer, **fields)
    return render(request, "privacy/court_order.html", page, code)


@router.get("/court-orders", response_class=HTMLResponse)
def court_order_form(request: Request, db: DB, viewer: CourtOrderOfficer) -> HTMLResponse:
    return _court_orders(request, db, viewer)


def _upload(document: UploadFile | None) -> bytes:
    if document is None:
        raise PrivacyActionError("Upload the court order's copy as a PDF.")
    # Read a chunk at a time and stop past the limit: an oversized copy is never held whole.
    try:
        return read_limited(document.file, get_settings().court_order_max_bytes)
    except FileRefused as exc:
        raise PrivacyActionError(str(exc)) from None


@router.post("/court-orders", response_class=HTMLResponse)
def record_court_order(
    request: Request,
    db: DB,
    viewer: CourtOrderOfficer,
    person_id: Annotated[str, Form(max_length=12)] = "",
    recipient_agency_id: Annotated[str, Form(max_length=12)] = "",
    categories: Annotated[list[str] | None, Form()] = None,
    purposes: Annotated[list[str] | None, Form()] = None,
    court: Annotated[Text, Form(max_length=200)] = "",
    order_reference: Annotated[Text, Form(max_length=100)] = "",
    judge: Annotated[Text, Form(max_length=200)] = "",
    rule: Annotated[str, Form(max_length=8)] = "",
    scope: Annotated[Text, Form(max_length=1000)] = "",
    issued_on: Annotated[str, Form(max_length=10)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    document: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    values = {
        "person_id": person_id,
        "recipient_agency_id": recipient_agency_id,
        "categories": categories or [],
        "purposes": purposes or [],
        "court": court,
        "order_reference": order_reference,
        "judge": judge,
        "rule": rule,
        "scope": scope,
        "issued_on": issued_on,
        "expires_on": expires_on,
    }
    try:
        issued = _day(issued_on, "the date issued")
        if issued is None:
            raise PrivacyActionError("Give the date the order was issued.")
        form = CourtOrderForm(
            person_id=_id(person_id, "client number"),
            recipient_agency_id=_id(recipient_agency_id, "recipient agency"),
            categories=[_enum(Category, c) for c in categories or []],
            purposes=[_enum(Purpose, p) for p in purposes or []],
            court=court,
            order_reference=order_reference,
            rule=rule,
            scope=scope,
            issued_on=issued,
            expires_on=_day(expires_on, "the expiry date"),
            judge=judge,
            document=_upload(document),
        )
        order = services.record_court_order(db, viewer, form, log_actor(request, viewer))
    except PrivacyActionError as exc:
        return _court_orders(request, db, viewer, 422, values=values, error=str(exc))
    return _court_orders(request, db, viewer, recorded_id=order.id)


@router.post("/court-orders/{order_id}/confirm", response_class=HTMLResponse)
def confirm_court_order(
    request: Request, db: DB, viewer: CourtOrderOfficer, order_id: OrderId
) -> HTMLResponse:
    try:
        order = services.confirm_court_order(db, viewer, order_id, log_actor(request, viewer))
    except PrivacyActionError as exc:
        return _court_orders(request, db, viewer, 422, error=str(exc))
    return _court_orders(request, db, viewer, confirmed_id=order.id)


@router.get("/court-orders/{order_id}/copy")
def court_order_copy(
    request: Request, db: DB, viewer: CourtOrderOfficer, order_id: OrderId
) -> Response:
    try:
        copy = services.court_order_copy(db, viewer, order_id, log_actor(request, viewer))
    except PrivacyActionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    # An attachment, never shown inline; the file name carries the order's number only.
    return Response(
        copy.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="court-order-{copy.court_order_id}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _enum(enum: Any, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise PrivacyActionError("Choose categories and purposes from the list.") from None
