"""Privacy officers' pages: break-glass (a reason, then the time-boxed record) and recording
a court order. Thin: hub.disclosure.services records, hub.disclosure.record reads and logs."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.clients.pages import BreakGlassPage, CourtOrderPage, RecordPage, SectionView, display_name
from hub.clients.purposes import record_purpose
from hub.clients.web import MAX_ID, read_record, refuse_nul
from hub.consents.services import agencies_by_name
from hub.db import record_number, utcnow
from hub.disclosure import services
from hub.disclosure.services import CourtOrderForm, PrivacyActionError
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


def _court_order_page(db: Session, viewer: Viewer, **fields: Any) -> CourtOrderPage:
    agencies = [(a.id, a.name) for a in agencies_by_name(db)]
    db.commit()
    return CourtOrderPage(**_basics(viewer, "Record a court order"), agencies=agencies, **fields)  # type: ignore[arg-type]


@router.get("/court-orders", response_class=HTMLResponse)
def court_order_form(request: Request, db: DB, viewer: CourtOrderOfficer) -> HTMLResponse:
    page = _court_order_page(db, viewer, values={"rule": "2.64", "categories": [], "purposes": []})
    return render(request, "privacy/court_order.html", page)


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
    rule: Annotated[str, Form(max_length=8)] = "",
    scope: Annotated[Text, Form(max_length=1000)] = "",
    issued_on: Annotated[str, Form(max_length=10)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    values = {
        "person_id": person_id,
        "recipient_agency_id": recipient_agency_id,
        "categories": categories or [],
        "purposes": purposes or [],
        "court": court,
        "order_reference": order_reference,
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
        )
        order = services.record_court_order(db, viewer, form, log_actor(request, viewer))
    except PrivacyActionError as exc:
        page = _court_order_page(db, viewer, values=values, error=str(exc))
        return render(request, "privacy/court_order.html", page, 422)
    page = _court_order_page(
        db,
        viewer,
        values={"rule": "2.64", "categories": [], "purposes": []},
        recorded_id=order.id,
    )
    return render(request, "privacy/court_order.html", page)


def _enum(enum: Any, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise PrivacyActionError("Choose categories and purposes from the list.") from None
