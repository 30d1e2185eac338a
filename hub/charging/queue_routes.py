"""The prosecutor's queue with its filters and counts, naming a matter's deputy, the reasons
of one outcome for the decide form (an htmx fragment), and the period's decisions (page and
CSV). Thin: parse, call the domain (hub.charging.queue, deputies, period), render."""

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from hub.accounts.models import Agency
from hub.accounts.sessions import Viewer
from hub.charging import checks, deputies, period
from hub.charging.checks import ChargingError
from hub.charging.deputies import Deputy
from hub.charging.queue import (
    OfficeKey,
    QueueCut,
    QueueFilter,
    QueueOutcome,
    QueueSort,
    QueueState,
    page_matters,
    state_of,
)
from hub.charging.queue_sql import cut_office_queue
from hub.charts import STRIP_DAYS, deadline_strip
from hub.db import utcnow
from hub.disclosure.aggregates import log_aggregate
from hub.disclosure.identities import disclose_identities
from hub.disclosure.record_view import Identity, WithheldCategory
from hub.referrals.rules import ReasonCode, SiteRules, current_rules
from hub.vocabulary import Action, Category, DecisionOutcome, DisclosureTag, Purpose
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.paging import MAX_PAGE, PAGE_SIZE, Paging
from hub.web.params import RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter()

Prosecutor = Annotated[Viewer, Depends(require(Action.charging_decide))]
PeriodReader = Annotated[Viewer, Depends(require(Action.charging_period))]
PURPOSE = Purpose.charging_decision
MONTH = Annotated[
    str | None, Query(max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]


@dataclass(frozen=True)
class QueueLine:
    """One row of the queue as this prosecutor may see it."""

    matter_id: int
    identity: Identity | WithheldCategory
    state: QueueState
    shows_legal: bool
    offense_tracking_number: str | None
    offenses: list[str]
    days_since_arrest: int
    due_on: date | None  # referral data: shown where the referral is
    deputy: str | None
    more_information: bool
    today: date | None = None  # the site's day, for the row's clock strip

    @property
    def strip(self) -> str | None:
        """The intake due date against today, drawn where the due date is shown; its colour is
        the deadline state only where the policy shared the clock (else the plain one)."""
        if self.due_on is None or self.today is None:
            return None
        return deadline_strip(
            self.due_on, self.today, self.state.value, screening=None, intake=None
        )


@dataclass
class FilteredQueuePage(Page):
    lines: list[QueueLine] = field(default_factory=list)
    paging: Paging | None = None
    counts: dict[QueueState, int] = field(default_factory=dict)
    wanted: QueueFilter = field(default_factory=QueueFilter)
    office_id: int | None = None
    office_name: str = ""
    deputies: list[Deputy] = field(default_factory=list)
    query: str = ""  # the filters, for the pager's links
    strip_days: int = STRIP_DAYS
    states: list[QueueState] = field(default_factory=lambda: list(QueueState))
    outcomes: list[QueueOutcome] = field(default_factory=lambda: list(QueueOutcome))
    sorts: list[QueueSort] = field(default_factory=lambda: list(QueueSort))


def _lines(
    request: Request,
    db: Session,
    viewer: Viewer,
    keys: list[OfficeKey],
    names: dict[int, str],
    rules: SiteRules,
) -> list[QueueLine]:
    """The page's rows: only its persons disclosed (identity, legal, referral, engagement),
    in one logged entry."""
    items = page_matters(db, viewer, [k.key.matter_id for k in keys])
    known = disclose_identities(
        db,
        viewer,
        [k.key.person_id for k in keys],
        PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal, Category.referral, Category.engagement),
    )
    today = utcnow().astimezone(rules.tz).date()
    lines = []
    for k in keys:
        item = items.get(k.key.matter_id)
        if item is None:
            continue
        pid = k.key.person_id
        legal = known.allows(pid, Category.legal)
        lines.append(
            QueueLine(
                matter_id=k.key.matter_id,
                identity=known.identity(pid),
                state=state_of(k, known.allows(pid, Category.engagement)),
                shows_legal=legal,
                offense_tracking_number=item[0] if legal else None,
                offenses=list(item[1]) if legal else [],
                days_since_arrest=k.key.days_since_arrest,
                due_on=(
                    k.due_on
                    if known.allows(pid, Category.engagement)
                    or (k.due_from_referral(rules) and known.allows(pid, Category.referral))
                    else None
                ),
                deputy=names.get(k.deputy_id) if k.deputy_id else None,
                more_information=k.more_information,
                today=today,
            )
        )
    return lines


class QueueQuery(BaseModel):
    """The queue's filters as the filter form sends them: an empty choice is no filter."""

    model_config = ConfigDict(extra="forbid")

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    office: RecordNumber | None = None  # the prosecuting office: only the viewer's own
    deputy: RecordNumber | None = None
    unassigned: bool = False
    state: QueueState | None = None
    outcome: QueueOutcome | None = None
    sort: QueueSort = QueueSort.urgency
    counts: bool = False  # count the matters in each state (without JavaScript; htmx asks apart)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_no_filter(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # The page is a number, empty or not: only the filters have an "any" choice.
            return {k: v for k, v in data.items() if k == "page" or v not in ("", None)}
        return data

    def wanted(self) -> QueueFilter:
        return QueueFilter(self.deputy, self.unassigned, self.state, self.outcome, self.sort)

    def query(self) -> str:
        """The filters again, for the pager's links."""
        chosen = self.model_dump(exclude={"page", "counts"}, exclude_defaults=True, mode="json")
        return urlencode(
            {k: str(v).lower() if isinstance(v, bool) else v for k, v in chosen.items()}
        )


def _office_name(request: Request, db: Session, viewer: Viewer, office: int | None) -> str:
    """The office whose queue is asked for: the viewer's own. Another office's answers as none
    (as the period report does), and the attempt is logged."""
    if office is not None and office != viewer.agency_id:
        raise refused_as_not_found(
            request, db, viewer, Action.charging_decide, "no such office for you", office=office
        )
    agency = db.get(Agency, viewer.agency_id)
    return agency.name if agency else ""


def _cut(
    request: Request,
    db: Session,
    viewer: Viewer,
    filters: QueueQuery,
    count_states: bool,
    page_size: int = PAGE_SIZE,
) -> QueueCut:
    cut = cut_office_queue(
        db,
        viewer,
        utcnow(),
        filters.wanted(),
        (filters.page - 1) * PAGE_SIZE,
        page_size,
        rules=current_rules(db),
        count_states=count_states,
    )
    if count_states:
        # An aggregate of engagement: logged, naming no one.
        log_aggregate(
            db,
            viewer,
            log_actor(request, viewer),
            tag=DisclosureTag.charging_queue_counts_read,
            purpose=PURPOSE,
            categories=(Category.engagement,),
            detail={
                "filters": filters.query(),
                "counts": {s.value: n for s, n in cut.counts.items()},
            },
        )
    return cut


@router.get("/charging", response_class=HTMLResponse)
def queue(
    request: Request, db: DB, viewer: Prosecutor, filters: Annotated[QueueQuery, Query()]
) -> Response:
    office_name = _office_name(request, db, viewer, filters.office)
    cut = _cut(request, db, viewer, filters, filters.counts)
    office = deputies.office_deputies(db, viewer)
    return render(
        request,
        "charging/queue.html",
        FilteredQueuePage(
            title="Charging queue",
            viewer=viewer,
            csrf_token=viewer.csrf_token,
            lines=_lines(
                request,
                db,
                viewer,
                cut.keys,
                {d.user_id: d.name for d in office},
                current_rules(db),
            ),
            paging=Paging(filters.page, cut.total),
            counts=cut.counts,
            wanted=filters.wanted(),
            office_id=viewer.agency_id,
            office_name=office_name,
            deputies=office,
            query=filters.query(),
        ),
    )


@router.get("/charging/counts", response_class=HTMLResponse)
def queue_counts(
    request: Request, db: DB, viewer: Prosecutor, filters: Annotated[QueueQuery, Query()]
) -> Response:
    """The count of matters in each state (htmx loads it after the page): every person with a
    clock is decided for it, so it is a request of its own and the queue's page stays quick."""
    _office_name(request, db, viewer, filters.office)
    cut = _cut(request, db, viewer, filters, True, page_size=0)  # no rows: the counts alone
    page = FilteredQueuePage(
        title="Charging queue",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        counts=cut.counts,
        query=filters.query(),
    )
    return render(request, "charging/_queue_counts.html", page)


@router.post("/charging/matters/{matter_id}/deputy")
def assign_deputy(
    request: Request,
    db: DB,
    viewer: Prosecutor,
    matter_id: RecordNumber,
    deputy_id: Annotated[RecordNumber, Form()],
) -> Response:
    try:
        checks.matter_for(db, viewer, matter_id)
    except ChargingError as error:
        raise refused_as_not_found(
            request, db, viewer, Action.charging_decide, str(error), matter_id=matter_id
        ) from error
    try:
        deputies.assign_deputy(db, viewer, matter_id, deputy_id, log_actor(request, viewer))
    except ChargingError as error:
        db.rollback()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
    return RedirectResponse(f"/charging/matters/{matter_id}?deputy=1", status.HTTP_303_SEE_OTHER)


@dataclass
class ReasonsPage(Page):
    outcome: DecisionOutcome | None = None
    reasons: list[ReasonCode] = field(default_factory=list)
    reason_codes: list[str] = field(default_factory=list)
    item_id: int | None = None  # a work-group item's decision form, which has its own fieldset


@router.get("/charging/reasons", response_class=HTMLResponse)
def reasons(
    request: Request,
    db: DB,
    viewer: Prosecutor,
    outcome: DecisionOutcome | None = None,
    item: RecordNumber | None = None,
) -> Response:
    """The decide form's reasons for the chosen outcome (swapped in by htmx), on the matter's
    decide page or, with `item`, in a work-group item's decision form."""
    page = ReasonsPage(
        title="Reasons",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        outcome=outcome,
        reasons=list(current_rules(db).reason_codes),
        item_id=item,
    )
    if not is_htmx(request):
        return RedirectResponse("/charging", status.HTTP_303_SEE_OTHER)
    return render(request, "charging/_reasons.html", page)


# --- the period's decisions ----------------------------------------------------------------


@dataclass
class PeriodPage(Page):
    report: period.PeriodReport | None = None
    month: str = ""
    error: str | None = None


def period_for(
    request: Request, db: Session, viewer: Viewer, office: int | None, month: str | None, form: str
) -> period.PeriodReport:
    rules = current_rules(db)
    today = utcnow().astimezone(rules.tz).date()
    office_id = office or viewer.agency_id
    if office_id != viewer.agency_id:
        raise refused_as_not_found(
            request, db, viewer, Action.charging_period, "no such office for you", office=office_id
        )
    first = period.parse_month(month or today.strftime("%Y-%m"), today)
    return period.period_report(
        db, viewer, office_id, first, log_actor(request, viewer), rules=rules, form=form
    )


@router.get("/charging/period", response_class=HTMLResponse)
def period_page(
    request: Request,
    db: DB,
    viewer: PeriodReader,
    office: RecordNumber | None = None,
    month: MONTH = None,
) -> Response:
    page = PeriodPage(title="The period's decisions", viewer=viewer, csrf_token=viewer.csrf_token)
    try:
        page.report = period_for(request, db, viewer, office, month, "page")
        page.month = page.report.month
    except ChargingError as error:
        db.rollback()
        page.error, page.month = str(error), month or ""
        return render(request, "charging/period.html", page, status.HTTP_400_BAD_REQUEST)
    return render(request, "charging/period.html", page)


@router.get("/charging/period.csv")
def period_csv(
    request: Request,
    db: DB,
    viewer: PeriodReader,
    office: RecordNumber | None = None,
    month: MONTH = None,
) -> Response:
    try:
        report = period_for(request, db, viewer, office, month, "csv")
    except ChargingError as error:
        db.rollback()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
    name = f"decisions-{report.office_id}-{report.month}.csv"
    return Response(
        period.format_period_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
