"""The program office's ledger: monthly totals per funding source, printable
(`/services/totals?year=`). An aggregate disclosure, logged as such by the service."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.services_ledger.services import ServiceTotals, service_totals
from hub.vocabulary import Action, FundingSource
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import Count
from hub.web.templating import Page, render

router = APIRouter(include_in_schema=False)

TotalsReader = Annotated[Viewer, Depends(require(Action.services_totals))]
FIRST_YEAR = 2000
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class TotalsPage(Page):
    totals: ServiceTotals | None = None
    sources: tuple[FundingSource, ...] = tuple(FundingSource)
    months: tuple[str, ...] = tuple(MONTHS)


@router.get("/services/totals", response_class=HTMLResponse)
def totals_page(
    request: Request, db: DB, viewer: TotalsReader, year: Count | None = None
) -> Response:
    this_year = utcnow().year
    year = this_year if year is None else year
    if not FIRST_YEAR <= year <= this_year:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"year: from {FIRST_YEAR} to {this_year}."
        )
    totals = service_totals(db, viewer, year, log_actor(request, viewer))
    page = TotalsPage(
        title=f"Services and bridges, {year}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        totals=totals,
    )
    return render(request, "services/totals.html", page)
