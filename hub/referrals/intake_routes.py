"""Case managers' intake (purpose: case_management): the intake queue, screening, intake and
caseload steps, the supervisor's caseload requests, and community referrals from the social
contact list.

Routes are thin: services decide, hub.disclosure says who a person is (and logs it).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.db import ident, utcnow
from hub.disclosure.identities import disclose_identities
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record import disclose_record
from hub.permissions import allowed
from hub.referrals import caseloads, intake_clock, intake_list, opening
from hub.referrals.eligibility import ReferralError
from hub.referrals.forms import ScreeningFields, parse_local_time, screening_answers
from hub.referrals.pages import (
    CaseloadRequestRow,
    CaseloadRequestsPage,
    IntakePage,
    IntakeQueuePage,
    IntakeRow,
)
from hub.referrals.routes import (
    INTAKE_PURPOSE,
    CaseloadSupervisor,
    CaseManager,
    CommunityReferrer,
    list_page,
)
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import Action, Category
from hub.web.dependencies import DB, log_actor, refused_as_not_found
from hub.web.paging import PageNumber, Paging
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()


@router.get("/intake", response_class=HTMLResponse)
def intake_queue(
    request: Request,
    db: DB,
    viewer: CaseManager,
    page: PageNumber = 1,
    tab: Literal["current", "older"] = "current",
) -> Response:
    """One page of one tab of the agency's intake queue (current work, or the deadlines missed
    long ago); only the page's persons are disclosed."""
    rules = current_rules(db)
    today = utcnow().astimezone(rules.tz).date()
    counts = {
        t: intake_list.intake_queue_count(db, viewer, today, tab=t) for t in intake_list.INTAKE_TABS
    }
    paging = Paging(page, counts[tab])
    items = intake_list.intake_queue(
        db, viewer, today, offset=paging.offset, limit=paging.size, rules=rules, tab=tab
    )
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in items],
        INTAKE_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.referral, Category.engagement),
    )
    rows = [
        IntakeRow(
            item=i,
            identity=known.identity(i.person_id),
            shows_referral=known.allows(i.person_id, Category.referral),
            shows_clock=known.allows(i.person_id, Category.engagement),
            today=today,
            zone=rules.tz,
        )
        for i in items
    ]
    return render(
        request,
        "referrals/intake_queue.html",
        IntakeQueuePage(
            title="Intake queue",
            viewer=viewer,
            csrf_token=viewer.csrf_token,
            rows=rows,
            paging=paging,
            tab=tab,
            counts=counts,
            old_miss_days=intake_list.OLD_MISS_DAYS,
        ),
    )


def intake_page(
    request: Request, db: Session, viewer: Viewer, referral_id: int, **extra: Any
) -> IntakePage:
    try:
        referral = intake_list.intake_referral(db, viewer, referral_id)
        record = disclose_record(
            db, viewer, referral.person_id, INTAKE_PURPOSE, log_actor(request, viewer)
        )
    except (ReferralError, PersonNotFound) as error:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.intake_manage,
            "No such referral for your agency.",
            referral_id=referral_id,
        ) from error
    rules = current_rules(db)
    shows_clock = Category.engagement in record.disclosed_categories
    today = utcnow().astimezone(rules.tz).date()
    candidates = intake_list.reconciliation_candidates(db, viewer, referral.person_id)
    known = disclose_identities(db, viewer, candidates, INTAKE_PURPOSE, log_actor(request, viewer))
    return IntakePage(
        title=f"Referral {referral_id}: intake",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        referral=referral,
        record=record,
        shows_referral=Category.referral in record.disclosed_categories,
        shows_clock=shows_clock,
        deadline=intake_clock.deadline_status(referral, today, tz=rules.tz)
        if shows_clock
        else None,
        case_managers=intake_list.agency_case_managers(db, viewer.agency_id),
        can_assign_others=allowed(viewer.role, Action.caseload_approve),
        to_reconcile=[(pid, known.identity(pid)) for pid in candidates],
        **extra,
    )


def _moment(text: str, rules: SiteRules, what: str) -> datetime | None:
    return parse_local_time(text, rules, what) if text.strip() else None


def _intake_step(
    request: Request, db: Session, viewer: Viewer, referral_id: int, step: object, done: str
) -> Response:
    """Runs one intake step (a callable) and shows the referral again, with the outcome."""
    try:
        step()  # type: ignore[operator]
    except ReferralError as error:
        db.rollback()
        page = intake_page(request, db, viewer, referral_id, error=str(error))
        return render(request, "referrals/intake.html", page, status.HTTP_400_BAD_REQUEST)
    page = intake_page(request, db, viewer, referral_id, done=done)
    return render(request, "referrals/intake.html", page)


@router.post("/referrals/{referral_id}/screening", response_class=HTMLResponse)
def record_screening(
    request: Request,
    db: DB,
    viewer: CaseManager,
    referral_id: RecordNumber,
    at: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    rules = current_rules(db)
    return _intake_step(
        request,
        db,
        viewer,
        referral_id,
        lambda: intake_clock.record_screening(
            db,
            viewer,
            referral_id,
            log_actor(request, viewer),
            at=_moment(at, rules, "the screening"),
        ),
        "The initial screening is recorded.",
    )


@router.post("/referrals/{referral_id}/intake", response_class=HTMLResponse)
def record_intake(
    request: Request,
    db: DB,
    viewer: CaseManager,
    referral_id: RecordNumber,
    services_text: Annotated[str, Form(alias="services", max_length=4000)] = "",
    at: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    rules = current_rules(db)
    return _intake_step(
        request,
        db,
        viewer,
        referral_id,
        lambda: intake_clock.record_intake(
            db,
            viewer,
            referral_id,
            services_text.splitlines(),
            log_actor(request, viewer),
            at=_moment(at, rules, "the intake assessment"),
        ),
        "The intake assessment is recorded.",
    )


@router.post("/referrals/{referral_id}/caseload", response_class=HTMLResponse)
def assign_caseload(
    request: Request,
    db: DB,
    viewer: CaseManager,
    referral_id: RecordNumber,
    case_manager_id: Annotated[RecordNumber, Form()],
) -> Response:
    """A supervisor assigns; a case manager asking for the client themself sends a request
    that a supervisor decides (nothing more is disclosed meanwhile)."""
    actor = log_actor(request, viewer)
    supervises = allowed(viewer.role, Action.caseload_approve)

    def _assign() -> None:
        if not supervises and case_manager_id == viewer.user_id:
            caseloads.request_caseload(db, viewer, referral_id, actor)
            return
        referral = intake_list.intake_referral(db, viewer, referral_id)
        caseloads.assign_to_caseload(db, viewer, referral.person_id, case_manager_id, actor)

    done = (
        "The client is assigned to the caseload."
        if supervises
        else "Your request is sent to a supervisor. The client stays with their case manager "
        "until a supervisor approves it."
    )
    return _intake_step(request, db, viewer, referral_id, _assign, done)


# --- supervisors: caseload requests ---------------------------------------------------------


def _caseload_requests_page(
    request: Request, db: Session, viewer: Viewer, **extra: Any
) -> CaseloadRequestsPage:
    pending = caseloads.pending_caseload_requests(db, viewer)
    names = dict(intake_list.agency_case_managers(db, viewer.agency_id))
    known = disclose_identities(
        db, viewer, [r.person_id for r in pending], INTAKE_PURPOSE, log_actor(request, viewer)
    )
    rows = [
        CaseloadRequestRow(
            request_id=ident(r.id),
            referral_id=r.referral_id,
            identity=known.identity(r.person_id),
            requested_by=names.get(r.requested_by_id, f"user {r.requested_by_id}"),
            held_by=(
                names.get(r.previous_case_manager_id, f"user {r.previous_case_manager_id}")
                if r.previous_case_manager_id
                else None
            ),
            requested_at=r.requested_at,
        )
        for r in pending
    ]
    return CaseloadRequestsPage(
        title="Caseload requests",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=rows,
        **extra,
    )


@router.get("/caseload-requests", response_class=HTMLResponse)
def caseload_requests(request: Request, db: DB, viewer: CaseloadSupervisor) -> Response:
    page = _caseload_requests_page(request, db, viewer)
    return render(request, "referrals/caseload_requests.html", page)


@router.post("/caseload-requests/{request_id}/{decision}", response_class=HTMLResponse)
def decide_caseload_request(
    request: Request,
    db: DB,
    viewer: CaseloadSupervisor,
    request_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    decision: Annotated[str, Path(pattern="^(approve|refuse)$")],
) -> Response:
    approve = decision == "approve"
    try:
        caseloads.decide_caseload_request(
            db, viewer, request_id, approve, log_actor(request, viewer)
        )
    except ReferralError as error:
        db.rollback()
        page = _caseload_requests_page(request, db, viewer, error=str(error))
        return render(
            request, "referrals/caseload_requests.html", page, status.HTTP_400_BAD_REQUEST
        )
    done = (
        "The request is approved: the client is on the new caseload."
        if approve
        else ("The request is refused: the client stays where they are.")
    )
    page = _caseload_requests_page(request, db, viewer, done=done)
    return render(request, "referrals/caseload_requests.html", page)


# --- case managers: community referrals from the social contact list ------------------------


@router.get("/intake/social-contacts", response_class=HTMLResponse)
def community_list(request: Request, db: DB, viewer: CommunityReferrer) -> Response:
    page = list_page(request, db, viewer, INTAKE_PURPOSE)
    return render(request, "referrals/social_contacts.html", page)


@router.post("/intake/social-contacts/{entry_id}/refer", response_class=HTMLResponse)
def community_referral(
    request: Request,
    db: DB,
    viewer: CommunityReferrer,
    entry_id: RecordNumber,
    form: Annotated[ScreeningFields, Form()],
) -> Response:
    try:
        referral = opening.create_community_referral(
            db,
            viewer,
            entry_id,
            viewer.agency_id,
            screening_answers(form),
            log_actor(request, viewer),
            override_reason=form.override_reason,
        )
    except ReferralError as error:
        db.rollback()
        page = list_page(request, db, viewer, INTAKE_PURPOSE, error=str(error))
        return render(request, "referrals/social_contacts.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(f"/referrals/{referral.id}?created=1", status.HTTP_303_SEE_OTHER)
