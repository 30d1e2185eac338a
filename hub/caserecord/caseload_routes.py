"""/caseload: "My clients" for a case manager; for a supervisor, their agency's clients per case
manager. Thin: hub.disclosure.caseload decides, reads and logs the page."""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub.accounts.sessions import Viewer
from hub.caserecord.glance import CaseloadGlance, caseload_glance
from hub.clients.web import not_found
from hub.db import utcnow
from hub.disclosure.caseload import (
    CaseloadQuery,
    CaseloadRefused,
    CaseloadRow,
    disclose_caseload,
)
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, CaseloadSort, ProgramStatus
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter(include_in_schema=False)

CaseloadReader = Annotated[Viewer, Depends(require(Action.caseload_read))]


@dataclass
class CaseloadPage(Page):
    rows: list[CaseloadRow] = field(default_factory=list)
    case_managers: dict[int, str] = field(default_factory=dict)
    sort: CaseloadSort = CaseloadSort.last_contact
    status: ProgramStatus | None = None
    case_manager_id: int | None = None
    next_after: int | None = None
    total: int = 0
    statuses: tuple[ProgramStatus, ...] = tuple(ProgramStatus)
    sorts: tuple[CaseloadSort, ...] = tuple(CaseloadSort)
    glance: CaseloadGlance | None = None  # counts of the rows above, nothing read again


@router.get("/caseload", response_class=HTMLResponse)
def caseload_page(
    request: Request,
    db: DB,
    viewer: CaseloadReader,
    sort: CaseloadSort = CaseloadSort.last_contact,
    status: ProgramStatus | None = None,
    case_manager: RecordNumber | None = None,
    after: RecordNumber | None = None,
) -> HTMLResponse:
    query = CaseloadQuery(sort=sort, status=status, case_manager_id=case_manager, after=after)
    try:
        view = disclose_caseload(db, viewer, log_actor(request, viewer), query)
    except CaseloadRefused:
        raise not_found() from None
    today = utcnow().astimezone(current_rules(db).tz).date()
    page = CaseloadPage(
        title="My clients",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=list(view.rows),
        case_managers=view.case_managers,
        sort=sort,
        status=status,
        case_manager_id=case_manager,
        next_after=view.next_after,
        total=view.total,
        glance=caseload_glance(view.rows, today),
    )
    template = "caserecord/_caseload_rows.html" if is_htmx(request) else "caserecord/caseload.html"
    return render(request, template, page)
