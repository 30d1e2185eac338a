"""The equity pages (issue 16): the dashboard, the printable report for the Policy
Coordinating Group, and the import of the police department's eligible-arrest counts.
Thin: parse, call hub.equity.services or hub.equity.population, render."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.equity.jail import COLUMNS as BOOKING_COLUMNS
from hub.equity.jail import MAX_BYTES as JAIL_MAX_BYTES
from hub.equity.jail import import_jail_bookings
from hub.equity.pdf import pdf_of
from hub.equity.population import COLUMNS as ARREST_COLUMNS
from hub.equity.population import (
    MAX_BYTES,
    ImportRefused,
    LineError,
    import_eligible_arrests,
    police_agencies,
)
from hub.equity.services import EquityDashboard, EquityInputError, equity_dashboard
from hub.referrals.rules import site_zone
from hub.vocabulary import Action
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import Count, RecordNumber
from hub.web.templating import Page, render

router = APIRouter(prefix="/equity")

EquityReader = Annotated[Viewer, Depends(require(Action.equity_read))]
EquityImporter = Annotated[Viewer, Depends(require(Action.equity_import))]
Months = Annotated[Count, Query()]
NO_FILE = LineError(0, "choose a CSV file")


@dataclass
class DashboardPage(Page):
    dashboard: EquityDashboard | None = None
    error: str | None = None
    prepared: str = ""
    pdf: bool = False  # laid out by WeasyPrint: its stylesheets are given to it, not linked


@dataclass(frozen=True)
class AgencyChoice:
    id: int
    name: str


@dataclass
class ImportPage(Page):
    agencies: list[AgencyChoice] = field(default_factory=list)
    intro: str = ""
    action: str = ""
    errors: list[LineError] = field(default_factory=list)
    imported: str | None = None


def _dashboard(
    request: Request, db: DB, viewer: Viewer, months: int, template: str, pdf: bool = False
) -> HTMLResponse:
    now = utcnow()
    page = DashboardPage(
        title="Referral demographics",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        prepared=now.astimezone(site_zone(db)).date().isoformat(),  # the site's day
        pdf=pdf,
    )
    try:
        page.dashboard = equity_dashboard(db, log_actor(request, viewer), viewer, months, now)
    except EquityInputError as exc:
        page.error = str(exc)
        return render(request, "equity/dashboard.html", page, 422)
    return render(request, template, page)


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, db: DB, viewer: EquityReader, months: Months = 12) -> HTMLResponse:
    return _dashboard(request, db, viewer, months, "equity/dashboard.html")


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, db: DB, viewer: EquityReader, months: Months = 3) -> HTMLResponse:
    """The quarterly report for the Policy Coordinating Group, as HTML for print."""
    return _dashboard(request, db, viewer, months, "equity/report.html")


@router.get("/report.pdf")
def report_pdf(request: Request, db: DB, viewer: EquityReader, months: Months = 3) -> Response:
    """The same report as PDF, a download."""
    page = _dashboard(request, db, viewer, months, "equity/report.html", pdf=True)
    if page.status_code != 200:
        return page
    return Response(
        pdf_of(bytes(page.body).decode()),
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="equity-report.pdf"'},
    )


ELIGIBLE_INTRO = (
    "One month of one police agency's arrests for LEAD-eligible offenses, counted by area, race"
    " and ethnicity (HMIS 3.04) and gender (HMIS 3.06): a CSV file with the header"
    f" {','.join(ARREST_COLUMNS)} (docs/equity.md)."
)
JAIL_INTRO = (
    "One month of the jail's bookings of persons the hub knows, each with the days spent in"
    f" custody: a CSV file with the header {','.join(BOOKING_COLUMNS)} (docs/equity.md). The"
    " dashboard counts them before and after referral; no page shows a booking."
)


def _import_page(
    request: Request,
    db: DB,
    viewer: Viewer,
    jail: bool = False,
    status_code: int = 200,
    **fields: object,
) -> HTMLResponse:
    agencies = [] if jail else [AgencyChoice(a.id or 0, a.name) for a in police_agencies(db)]
    db.commit()
    page = ImportPage(
        title="Import jail bookings" if jail else "Import eligible arrests",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        intro=JAIL_INTRO if jail else ELIGIBLE_INTRO,
        action="/equity/jail-bookings" if jail else "/equity/eligible-arrests",
        agencies=agencies,
        **fields,  # type: ignore[arg-type]
    )
    return render(request, "equity/import.html", page, status_code)


@router.get("/eligible-arrests", response_class=HTMLResponse)
def import_form(request: Request, db: DB, viewer: EquityImporter) -> HTMLResponse:
    return _import_page(request, db, viewer)


@router.post("/eligible-arrests", response_class=HTMLResponse)
def import_file(
    request: Request,
    db: DB,
    viewer: EquityImporter,
    agency_id: Annotated[RecordNumber, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    if file is None:
        return _import_page(request, db, viewer, False, 422, errors=[NO_FILE])
    data = file.file.read(MAX_BYTES + 1)
    try:
        batch = import_eligible_arrests(
            db, log_actor(request, viewer), agency_id, viewer.user_id, data, utcnow()
        )
    except ImportRefused as refused:
        db.rollback()
        return _import_page(request, db, viewer, False, 422, errors=refused.errors)
    return _import_page(request, db, viewer, imported=f"{batch.month}: {batch.rows} rows")


@router.get("/jail-bookings", response_class=HTMLResponse)
def jail_form(request: Request, db: DB, viewer: EquityImporter) -> HTMLResponse:
    return _import_page(request, db, viewer, jail=True)


@router.post("/jail-bookings", response_class=HTMLResponse)
def jail_file(
    request: Request,
    db: DB,
    viewer: EquityImporter,
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    if file is None:
        return _import_page(request, db, viewer, True, 422, errors=[NO_FILE])
    data = file.file.read(JAIL_MAX_BYTES + 1)
    try:
        batch = import_jail_bookings(db, log_actor(request, viewer), viewer.user_id, data, utcnow())
    except ImportRefused as refused:
        db.rollback()
        return _import_page(request, db, viewer, True, 422, errors=refused.errors)
    return _import_page(request, db, viewer, True, imported=f"{batch.month}: {batch.rows} rows")
