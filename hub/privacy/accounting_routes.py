"""The accounting of disclosures a client may ask for (HIPAA 164.528, 42 CFR 2.24), generated
by a privacy officer from the console: the form, and the accounting with its letter."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.privacy.accounting import AccountingError, default_period, generate_accounting
from hub.privacy.letter import letter_sections
from hub.privacy.pages import AccountingFormPage, AccountingPage
from hub.privacy.routes import Officer, page_of, person_on_file
from hub.privacy.search import names_for
from hub.web.dependencies import DB, log_actor
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter(prefix="/privacy")


def _form_page(
    db: Session, viewer: Viewer, person_id: int, error: str | None = None
) -> AccountingFormPage:
    today, hipaa_since, part2_since = default_period(db)
    page: AccountingFormPage = page_of(
        AccountingFormPage,
        viewer,
        f"Accounting of disclosures, client record {person_id}",
        person_id=person_id,
        today=today,
        hipaa_since=hipaa_since,
        part2_since=part2_since,
        error=error,
    )
    return page


@router.get("/clients/{person_id}/accounting", response_class=HTMLResponse)
def accounting_form(
    request: Request, viewer: Officer, db: DB, person_id: RecordNumber
) -> HTMLResponse:
    person_on_file(db, person_id)
    return render(request, "privacy/accounting_form.html", _form_page(db, viewer, person_id))


@router.post("/clients/{person_id}/accounting", response_class=HTMLResponse)
def accounting(
    request: Request,
    viewer: Officer,
    db: DB,
    person_id: RecordNumber,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    summarise: Annotated[str, Form()] = "",
    form: Annotated[Literal["table", "letter"], Form()] = "table",
) -> HTMLResponse:
    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
        report = generate_accounting(
            db,
            viewer,
            person_id,
            log_actor(request, viewer),
            since=first,
            until=last,
            summarise=bool(summarise),
        )
    except (AccountingError, ValueError) as exc:
        message = str(exc) if isinstance(exc, AccountingError) else "Dates are YYYY-MM-DD."
        page = _form_page(db, viewer, person_id, error=message)
        return render(request, "privacy/accounting_form.html", page, 422)
    lines = [line for section in report.sections for line in section.lines]
    names = names_for(
        db,
        [line.recipient_user_id for line in lines] + [viewer.user_id],
        (line.recipient_agency_id for line in lines),
    )
    page = page_of(
        AccountingPage,
        viewer,
        f"Accounting of disclosures, client record {person_id}",
        accounting=report,
        names=names,
        generated_by=names.user(viewer.user_id),
        letter=letter_sections(report, names) if form == "letter" else [],
    )
    template = "privacy/accounting_letter.html" if form == "letter" else "privacy/accounting.html"
    return render(request, template, page)
