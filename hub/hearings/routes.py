"""Court-date pages: a matter's court dates (set, move, cancel), and the calendar of the
prosecutor's office or of the defender's own clients. What shows of a client is the policy
layer's answer (legal category), logged with the read."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.clients.purposes import record_purpose
from hub.db import utcnow
from hub.disclosure.identities import disclose_identities
from hub.hearings import services
from hub.hearings.pages import CalendarPage, CalendarRow, MatterHearingsPage
from hub.hearings.services import HearingDetails, HearingNotFound, HearingRefused
from hub.referrals.eligibility import ReferralError
from hub.referrals.forms import parse_local_time
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, DisclosureTag, HearingKind
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

Manager = Annotated[Viewer, Depends(require(Action.hearings_manage))]
CalendarReader = Annotated[Viewer, Depends(require(Action.calendar_read))]


class HearingForm(BaseModel):
    kind: str = Field(default="", max_length=32)
    starts_at: str = Field(default="", max_length=20)
    courtroom: str = Field(default="", max_length=100)


def _details(db: Session, form: HearingForm) -> HearingDetails:
    """The form as service input, read in the site's time zone; every unreadable field at
    once."""
    rules = current_rules(db)
    problems = []
    kind = starts = None
    try:
        kind = HearingKind(form.kind)
    except ValueError:
        problems.append(("kind", "choose arraignment, pretrial, trial, review or other"))
    try:
        starts = parse_local_time(form.starts_at, rules, "the court date")
    except ReferralError as error:
        problems.append(("starts_at", str(error)))
    if not form.courtroom.strip():
        problems.append(("courtroom", "required"))
    if problems or kind is None or starts is None:
        raise HearingRefused(problems)
    return HearingDetails(kind=kind, starts_at=starts, courtroom=form.courtroom)


def _matter_page(
    request: Request, db: Session, viewer: Viewer, matter_id: int, **extra: Any
) -> MatterHearingsPage:
    """A matter's court dates, after the policy layer allowed its legal fields (logged)."""
    rules = current_rules(db)
    try:
        matter = services.matter_for(db, viewer, matter_id)
    except HearingNotFound as error:
        raise refused_as_not_found(
            request, db, viewer, Action.hearings_manage, str(error), matter_id=matter_id
        ) from error
    known = disclose_identities(
        db,
        viewer,
        [matter.person_id],
        record_purpose(viewer),
        log_actor(request, viewer),
        with_categories=(Category.legal,),
        tag=DisclosureTag.charging_matter_read,
        with_identity=False,
    )
    if not known.allows(matter.person_id, Category.legal):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such matter for you")
    hearings = services.hearings_of(db, matter, rules.tz)
    return MatterHearingsPage(
        title=f"Court dates: {matter.offense_tracking_number}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        matter_id=matter_id,
        offense_tracking_number=matter.offense_tracking_number,
        offenses=list(matter.offenses),
        hearings=hearings,
        history=services.history_of(db, [h.hearing_id for h in hearings], rules.tz),
        timezone=rules.timezone,
        **extra,
    )


@router.get("/charging/matters/{matter_id}/hearings", response_class=HTMLResponse)
def matter_hearings(request: Request, db: DB, viewer: Manager, matter_id: RecordNumber) -> Response:
    """A matter's court dates with their history, for its office or the client's defender."""
    return render(request, "hearings/matter.html", _matter_page(request, db, viewer, matter_id))


@router.post("/charging/matters/{matter_id}/hearings", response_class=HTMLResponse)
def set_hearing(
    request: Request,
    db: DB,
    viewer: Manager,
    matter_id: RecordNumber,
    form: Annotated[HearingForm, Form()],
) -> Response:
    try:
        services.set_hearing(db, viewer, matter_id, _details(db, form), log_actor(request, viewer))
    except HearingNotFound as error:
        raise refused_as_not_found(
            request, db, viewer, Action.hearings_manage, str(error), matter_id=matter_id
        ) from error
    except HearingRefused as refused:
        db.rollback()
        page = _matter_page(request, db, viewer, matter_id, problems=refused.problems)
        return render(request, "hearings/matter.html", page, status.HTTP_422_UNPROCESSABLE_CONTENT)
    return RedirectResponse(f"/charging/matters/{matter_id}/hearings", status.HTTP_303_SEE_OTHER)


def _change(
    request: Request, db: Session, viewer: Viewer, hearing_id: int, form: HearingForm | None
) -> Response:
    try:
        if form is None:
            hearing = services.cancel_hearing(db, viewer, hearing_id, log_actor(request, viewer))
        else:
            hearing = services.change_hearing(
                db, viewer, hearing_id, _details(db, form), log_actor(request, viewer)
            )
    except HearingNotFound as error:
        raise refused_as_not_found(
            request, db, viewer, Action.hearings_manage, str(error), hearing_id=hearing_id
        ) from error
    except HearingRefused as refused:
        db.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(refused)) from refused
    return RedirectResponse(
        f"/charging/matters/{hearing.matter_id}/hearings", status.HTTP_303_SEE_OTHER
    )


@router.post("/hearings/{hearing_id}", response_class=HTMLResponse)
def change_hearing(
    request: Request,
    db: DB,
    viewer: Manager,
    hearing_id: RecordNumber,
    form: Annotated[HearingForm, Form()],
) -> Response:
    """Moves a court date; its earlier values stay in its history."""
    return _change(request, db, viewer, hearing_id, form)


@router.post("/hearings/{hearing_id}/cancel", response_class=HTMLResponse)
def cancel_hearing(request: Request, db: DB, viewer: Manager, hearing_id: RecordNumber) -> Response:
    return _change(request, db, viewer, hearing_id, None)


@router.get("/calendar", response_class=HTMLResponse)
def calendar(request: Request, db: DB, viewer: CalendarReader) -> Response:
    """The coming court dates of the prosecutor's office, or of the defender's own clients;
    who each client is and the matter's fields as far as the policy allows, logged."""
    rules = current_rules(db)
    items = services.calendar(db, viewer, utcnow(), rules.tz)
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in items],
        record_purpose(viewer),
        log_actor(request, viewer),
        with_categories=(Category.legal,),
    )
    page = CalendarPage(
        title="Court calendar",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[
            CalendarRow(i, known.identity(i.person_id), known.allows(i.person_id, Category.legal))
            for i in items
        ],
        timezone=rules.timezone,
    )
    return render(request, "hearings/calendar.html", page)
