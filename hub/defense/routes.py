"""The defender's "my clients" page: each current client's matters, decisions, intake due
dates, court dates and flags, as far as the policy layer allows (purpose: defense)."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.defense import appointments
from hub.defense.appointments import COLUMNS, AppointmentLine, AppointmentRefused
from hub.defense.services import ClientLine, defense_clients
from hub.disclosure.identities import disclose_identities
from hub.disclosure.record_view import Identity, WithheldCategory
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, ImportMode, Purpose
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, render

router = APIRouter()

Defender = Annotated[Viewer, Depends(require(Action.defense_decisions))]
Appointer = Annotated[Viewer, Depends(require(Action.defense_appoint))]
# A court's appointment list is small: a few thousand rows at most (appointments.MAX_ROWS).
MAX_IMPORT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClientRow:
    client: ClientLine
    identity: Identity | WithheldCategory
    shows_legal: bool
    shows_clock: bool  # engagement: the intake due date


@dataclass
class MyClientsPage(Page):
    rows: list[ClientRow] = field(default_factory=list)


@router.get("/defense/clients", response_class=HTMLResponse)
def my_clients(request: Request, db: DB, viewer: Defender) -> Response:
    rules = current_rules(db)
    clients = defense_clients(db, viewer, utcnow(), rules.tz)
    known = disclose_identities(
        db,
        viewer,
        [c.person_id for c in clients],
        Purpose.defense,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.engagement),
    )
    page = MyClientsPage(
        title="My clients",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[
            ClientRow(
                c,
                known.identity(c.person_id),
                known.allows(c.person_id, Category.legal),
                known.allows(c.person_id, Category.engagement),
            )
            for c in clients
        ],
    )
    return render(request, "defense/clients.html", page)


@dataclass
class AppointmentsPage(Page):
    appointments: list[AppointmentLine] = field(default_factory=list)
    columns: tuple[str, ...] = COLUMNS
    problems: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # lines left out (valid_rows)


def _appointments_page(
    db: DB, viewer: Viewer, problems: list[tuple[str, str]] | None = None, message: str = ""
) -> AppointmentsPage:
    try:
        listed = appointments.office_appointments(db, viewer)
    except AppointmentRefused as refused:
        listed, problems = [], refused.problems
    return AppointmentsPage(
        title="Defender appointments",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        messages=[message] if message else [],
        appointments=listed,
        problems=problems or [],
    )


@router.get("/defense/appointments", response_class=HTMLResponse)
def appointments_page(request: Request, db: DB, viewer: Appointer) -> Response:
    """The office's open appointments (ids only), and the forms to appoint and import."""
    return render(request, "defense/appointments.html", _appointments_page(db, viewer))


@router.post("/defense/appointments", response_class=HTMLResponse)
def appoint(
    request: Request,
    db: DB,
    viewer: Appointer,
    offense_tracking_number: Annotated[str, Form(max_length=40)] = "",
    defender_email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    try:
        appointments.appoint_defender(
            db, viewer, offense_tracking_number, defender_email, log_actor(request, viewer)
        )
    except AppointmentRefused as refused:
        db.rollback()
        page = _appointments_page(db, viewer, refused.problems)
        return render(request, "defense/appointments.html", page, 422)
    return RedirectResponse("/defense/appointments", status.HTTP_303_SEE_OTHER)


@router.post("/defense/appointments/{assignment_id}/end", response_class=HTMLResponse)
def end(request: Request, db: DB, viewer: Appointer, assignment_id: RecordNumber) -> Response:
    try:
        appointments.end_appointment(db, viewer, assignment_id, log_actor(request, viewer))
    except AppointmentRefused as refused:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.defense_appoint,
            str(refused),
            assignment_id=assignment_id,
        ) from refused
    return RedirectResponse("/defense/appointments", status.HTTP_303_SEE_OTHER)


@router.post("/defense/appointments/import", response_class=HTMLResponse)
def import_csv(
    request: Request,
    db: DB,
    viewer: Appointer,
    file: Annotated[UploadFile, File()],
    mode: Annotated[ImportMode, Form()],
) -> Response:
    """Imports a court's appointment records: the valid rows, or nothing, as the appointer
    chose; every bad line is named with its reason."""
    raw = file.file.read(MAX_IMPORT_BYTES + 1)
    problems: list[tuple[str, str]] = []
    text = ""
    done = appointments.AppointmentImport(made=0, refused=[])
    if len(raw) > MAX_IMPORT_BYTES:
        problems.append(("file", "larger than 1 MB"))
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(("file", "not UTF-8 text"))
    if not problems:
        try:
            done = appointments.import_appointments(
                db, viewer, text, log_actor(request, viewer), mode
            )
        except AppointmentRefused as refused:
            db.rollback()
            problems = refused.problems
    if problems:
        page = _appointments_page(db, viewer, problems)
        return render(request, "defense/appointments.html", page, 422)
    message = f"{done.made} appointment(s) imported in one transaction."
    if done.refused:
        message += f" {len(done.refused)} line(s) refused, listed below."
    page = _appointments_page(db, viewer, message=message)
    page.refused = done.refused
    return render(request, "defense/appointments.html", page)
