"""Referral pages. Officers and sergeants (purpose: referral): arrest and social-contact
referrals with the live eligibility screening and the duplicate check, the social contact
list, feedback on their own referrals, a sergeant's overrides. Case managers (purpose:
case_management): the intake queue, screening, intake and caseload, community referrals from
the social contact list.

Routes are thin: services decide, hub.disclosure says who a person is (and logs it).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import append_refusal
from hub.charging.checks import ChargingError
from hub.charging.matters import record_new_arrest
from hub.db import ident, utcnow
from hub.disclosure.identities import disclose_identities
from hub.disclosure.policy import PersonNotFound
from hub.disclosure.record import disclose_record
from hub.permissions import allowed
from hub.referrals import caseloads, intake_clock, intake_list, officer_feedback, opening
from hub.referrals.corrections import REASON_LABELS, correction_state
from hub.referrals.eligibility import ReferralError, Screening, screen
from hub.referrals.forms import (
    ArrestForm,
    ListEntryForm,
    PersonFields,
    ScreeningFields,
    SocialContactForm,
    choose_person,
    parse_local_time,
    prior_involvement,
    screening_answers,
)
from hub.referrals.opening import ArrestDetails
from hub.referrals.pages import (
    Candidate,
    CaseloadRequestRow,
    CaseloadRequestsPage,
    FeedbackRow,
    IntakePage,
    IntakeQueuePage,
    IntakeRow,
    ListRow,
    MyReferralsPage,
    ReferralFeedbackPage,
    ReferralFormPage,
    ScreeningFragment,
    SocialContactListPage,
)
from hub.referrals.referred_person import PersonRefused, PossibleDuplicate
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import Action, Category, Purpose
from hub.web.dependencies import DB, CurrentViewer, log_actor, refused_as_not_found, require
from hub.web.paging import PageNumber, Paging
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

# Each page's purpose is fixed here, never taken from the request.
POLICE_PURPOSE = Purpose.referral
INTAKE_PURPOSE = Purpose.case_management

Referrer = Annotated[Viewer, Depends(require(Action.referrals_create))]
Officer = Annotated[Viewer, Depends(require(Action.referrals_feedback))]
Sergeant = Annotated[Viewer, Depends(require(Action.referrals_overrides))]
ListKeeper = Annotated[Viewer, Depends(require(Action.social_contacts_add))]
CaseManager = Annotated[Viewer, Depends(require(Action.intake_manage))]
CommunityReferrer = Annotated[Viewer, Depends(require(Action.community_refer))]
CaseloadSupervisor = Annotated[Viewer, Depends(require(Action.caseload_approve))]

CORRECTION_DONE = {
    "withdrawn": "The referral is withdrawn. The agencies it went to have been told.",
    "corrected": "The referral is corrected. The case management agency has been told.",
}


def _candidates(
    request: Request, db: Session, viewer: Viewer, refusal: PossibleDuplicate, purpose: Purpose
) -> list[Candidate]:
    # Candidates are named only as far as the policy lets this referrer know them (logged).
    ids = [c.person_id for c in refusal.candidates]
    known = disclose_identities(db, viewer, ids, purpose, log_actor(request, viewer))
    return [
        Candidate(c.person_id, known.identity(c.person_id), c.score, c.reason)
        for c in refusal.candidates
    ]


def log_person_refusal(
    request: Request, db: Session, viewer: Viewer, error: ReferralError, action: Action
) -> None:
    """After the rollback: a police referrer's attempt to name a person they did not refer is
    a refused access, logged with the attempted record number (ASVS V16)."""
    if isinstance(error, PersonRefused):
        detail = {"action": action.value, "path": request.url.path, "person_id": error.person_id}
        append_refusal(db, log_actor(request, viewer), detail)


def _refused(
    request: Request,
    db: Session,
    viewer: Viewer,
    error: ReferralError,
    form: PersonFields,
    action: Action,
) -> tuple[str, list[Candidate]]:
    """Roll back whatever the refused step flushed, then say why; a duplicate check answers
    with its candidates, and the form keeps their ids for a "none of these" answer."""
    db.rollback()
    log_person_refusal(request, db, viewer, error, action)
    if isinstance(error, PossibleDuplicate):
        form.candidate_ids = [c.person_id for c in error.candidates]
        form.person_choice = ""
        return str(error), _candidates(request, db, viewer, error, POLICE_PURPOSE)
    return str(error), []


# --- officers: referrals ------------------------------------------------------------------


def _form_page(
    db: Session,
    viewer: Viewer,
    kind: str,
    form: ArrestForm | SocialContactForm,
    rules: SiteRules,
    **extra: Any,
) -> ReferralFormPage:
    title = "New arrest referral" if kind == "arrest" else "New social contact referral"
    return ReferralFormPage(
        title=title,
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        kind=kind,
        form=form,
        rules=rules,
        agencies=intake_list.case_management_agencies(db),
        screening=_try_screening(rules, form),
        **extra,
    )


def _try_screening(rules: SiteRules, form: ArrestForm | SocialContactForm) -> Screening | None:
    """The screening of what the form holds, so that a page served without htmx shows the
    override field when it is needed."""
    offenses = form.offenses if isinstance(form, ArrestForm) else []
    if not (offenses or form.facts or any(form.conviction_class)):
        return None
    try:
        return screen(
            rules, offenses, screening_answers(form), utcnow().astimezone(rules.tz).date()
        )
    except ReferralError:
        return None


def _form_refused(
    request: Request,
    db: Session,
    viewer: Viewer,
    kind: str,
    form: ArrestForm | SocialContactForm,
    rules: SiteRules,
    error: ReferralError,
) -> Response:
    message, candidates = _refused(request, db, viewer, error, form, Action.referrals_create)
    page = _form_page(db, viewer, kind, form, rules, error=message, candidates=candidates)
    return render(request, "referrals/new.html", page, status.HTTP_400_BAD_REQUEST)


@router.get("/referrals/new/arrest", response_class=HTMLResponse)
def arrest_form(request: Request, db: DB, viewer: Referrer) -> Response:
    page = _form_page(db, viewer, "arrest", ArrestForm(), current_rules(db))
    return render(request, "referrals/new.html", page)


@router.post("/referrals/new/arrest", response_class=HTMLResponse)
def create_arrest(
    request: Request, db: DB, viewer: Referrer, form: Annotated[ArrestForm, Form()]
) -> Response:
    rules = current_rules(db)
    try:
        if form.case_management_agency_id is None:
            raise ReferralError("hand the referral to a case management agency")
        referral, _matter = opening.create_arrest_referral(
            db,
            viewer,
            choose_person(db, form, rules, viewer),
            ArrestDetails(
                offenses=tuple(form.offenses),
                arrested_at=parse_local_time(form.arrested_at, rules, "the arrest"),
                place=form.place,
                precinct=form.precinct,
                offense_tracking_number=form.offense_tracking_number,
            ),
            form.case_management_agency_id,
            screening_answers(form),
            log_actor(request, viewer),
            override_reason=form.override_reason,
            rules=rules,
        )
    except ReferralError as error:
        return _form_refused(request, db, viewer, "arrest", form, rules, error)
    return RedirectResponse(f"/referrals/{referral.id}?created=1", status.HTTP_303_SEE_OTHER)


@router.get("/referrals/new/social-contact", response_class=HTMLResponse)
def social_contact_form(request: Request, db: DB, viewer: Referrer) -> Response:
    page = _form_page(db, viewer, "social_contact", SocialContactForm(), current_rules(db))
    return render(request, "referrals/new.html", page)


@router.post("/referrals/new/social-contact", response_class=HTMLResponse)
def create_social_contact(
    request: Request, db: DB, viewer: Referrer, form: Annotated[SocialContactForm, Form()]
) -> Response:
    rules = current_rules(db)
    try:
        if form.case_management_agency_id is None:
            raise ReferralError("hand the referral to a case management agency")
        referral = opening.create_social_contact_referral(
            db,
            viewer,
            choose_person(db, form, rules, viewer),
            form.offense_category,
            prior_involvement(form.prior_kind, form.prior_reference),
            form.case_management_agency_id,
            screening_answers(form),
            log_actor(request, viewer),
            precinct=form.precinct,
            override_reason=form.override_reason,
            rules=rules,
        )
    except ReferralError as error:
        return _form_refused(request, db, viewer, "social_contact", form, rules, error)
    return RedirectResponse(f"/referrals/{referral.id}?created=1", status.HTTP_303_SEE_OTHER)


@router.post("/referrals/screening", response_class=HTMLResponse)
def screening_result(
    request: Request,
    db: DB,
    viewer: Referrer,
    form: Annotated[ScreeningFields, Form()],
    offenses: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """The eligibility screening as the referrer fills the form (htmx); reads no client data
    and changes nothing."""
    rules = current_rules(db)
    page = ScreeningFragment(title="Screening", viewer=viewer, rules=rules)
    page.override_reason = form.override_reason
    try:
        today = utcnow().astimezone(rules.tz).date()
        page.screening = screen(rules, offenses, screening_answers(form), today)
    except ReferralError as error:
        page.screening_error = str(error)
    return render(request, "referrals/_screening.html", page)


# --- officers: the social contact list ----------------------------------------------------


def _list_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    purpose: Purpose,
    form: PersonFields | None = None,
    **extra: Any,
) -> SocialContactListPage:
    items = opening.social_contact_list(db)
    known = disclose_identities(
        db, viewer, [i.person_id for i in items], purpose, log_actor(request, viewer)
    )
    return SocialContactListPage(
        title="Social contact list",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        rows=[ListRow(i, known.identity(i.person_id)) for i in items],
        form=form or ListEntryForm(),
        rules=current_rules(db),
        can_add=allowed(viewer.role, Action.social_contacts_add),
        can_refer=allowed(viewer.role, Action.community_refer),
        **extra,
    )


@router.get("/social-contacts", response_class=HTMLResponse)
def social_contacts(request: Request, db: DB, viewer: ListKeeper) -> Response:
    page = _list_page(request, db, viewer, POLICE_PURPOSE)
    return render(request, "referrals/social_contacts.html", page)


@router.post("/social-contacts", response_class=HTMLResponse)
def add_social_contact(
    request: Request, db: DB, viewer: ListKeeper, form: Annotated[ListEntryForm, Form()]
) -> Response:
    rules = current_rules(db)
    try:
        opening.add_to_social_contact_list(
            db,
            viewer,
            choose_person(db, form, rules, viewer),
            form.offense_category,
            prior_involvement(form.prior_kind, form.prior_reference),
            log_actor(request, viewer),
            precinct=form.precinct,
            rules=rules,
        )
    except ReferralError as error:
        message, candidates = _refused(request, db, viewer, error, form, Action.social_contacts_add)
        page = _list_page(
            request, db, viewer, POLICE_PURPOSE, form, error=message, candidates=candidates
        )
        return render(request, "referrals/social_contacts.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse("/social-contacts", status.HTTP_303_SEE_OTHER)


# --- officers: feedback ---------------------------------------------------------------------


def feedback_rows(
    request: Request,
    db: Session,
    viewer: Viewer,
    items: list[officer_feedback.OfficerReferralStatus],
) -> list[FeedbackRow]:
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in items],
        POLICE_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.engagement, Category.legal),
    )
    return [
        FeedbackRow(
            item=i,
            identity=known.identity(i.person_id),
            shows_status=known.allows(i.person_id, Category.engagement),
            shows_charging=known.allows(i.person_id, Category.legal),
        )
        for i in items
    ]


@router.get("/referrals", response_class=HTMLResponse)
def my_referrals(request: Request, db: DB, viewer: Officer, page: PageNumber = 1) -> Response:
    """One page of the officer's referrals, newest first; only the page's persons disclosed."""
    paging = Paging(page, officer_feedback.officer_referral_count(db, viewer))
    items = officer_feedback.officer_referrals(db, viewer, offset=paging.offset, limit=paging.size)
    return render(
        request,
        "referrals/mine.html",
        MyReferralsPage(
            title="My referrals",
            viewer=viewer,
            csrf_token=viewer.csrf_token,
            rows=feedback_rows(request, db, viewer, items),
            paging=paging,
        ),
    )


def own_referral(
    request: Request, db: Session, viewer: Viewer, referral_id: int
) -> officer_feedback.OfficerReferralStatus:
    """One of the referrer's own referrals; another's (or none) is a refusal, logged, and
    answered 404."""
    try:
        return officer_feedback.officer_referral(db, viewer, referral_id)
    except ReferralError as error:
        raise refused_as_not_found(
            request, db, viewer, Action.referrals_feedback, str(error), referral_id=referral_id
        ) from error


def _feedback_page(
    request: Request, db: Session, viewer: Viewer, referral_id: int, **extra: Any
) -> ReferralFeedbackPage:
    item = own_referral(request, db, viewer, referral_id)
    (row,) = feedback_rows(request, db, viewer, [item])
    return ReferralFeedbackPage(
        title=f"Referral {referral_id}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        row=row,
        rules=current_rules(db),
        correction=correction_state(db, viewer, referral_id, utcnow()),
        agencies=intake_list.case_management_agencies(db),
        reasons=REASON_LABELS,
        **extra,
    )


def feedback_refused(
    request: Request, db: Session, viewer: Viewer, referral_id: int, message: str
) -> Response:
    """The officer's referral page again, with why their step was refused (400)."""
    page = _feedback_page(request, db, viewer, referral_id, error=message)
    return render(request, "referrals/feedback.html", page, status.HTTP_400_BAD_REQUEST)


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_page(
    request: Request,
    db: DB,
    viewer: CurrentViewer,
    referral_id: RecordNumber,
    created: bool = False,
    done: Literal["withdrawn", "corrected"] | None = None,
) -> Response:
    """The referrer's feedback view, or the case manager's intake page: notifications link
    here for both, and each role holds the action of one of the two."""
    if allowed(viewer.role, Action.intake_manage):
        page = _intake_page(request, db, viewer, referral_id, created=created)
        return render(request, "referrals/intake.html", page)
    if allowed(viewer.role, Action.referrals_feedback):
        feedback = _feedback_page(request, db, viewer, referral_id, created=created)
        if done is not None:
            feedback.messages.append(CORRECTION_DONE[done])
        return render(request, "referrals/feedback.html", feedback)
    raise HTTPException(status.HTTP_403_FORBIDDEN, "Your role does not allow this.")


@router.post("/referrals/{referral_id}/new-arrest", response_class=HTMLResponse)
def new_arrest(
    request: Request,
    db: DB,
    viewer: Referrer,
    referral_id: RecordNumber,
    offenses: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    arrested_at: Annotated[str, Form(max_length=20)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    precinct: Annotated[str, Form(max_length=100)] = "",
    offense_tracking_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A new arrest of a client the officer referred, forwarded for a charging decision."""
    rules = current_rules(db)
    item = own_referral(request, db, viewer, referral_id)
    try:
        record_new_arrest(
            db,
            viewer,
            item.person_id,
            ArrestDetails(
                offenses=tuple(offenses),
                arrested_at=parse_local_time(arrested_at, rules, "the arrest"),
                place=place,
                precinct=precinct,
                offense_tracking_number=offense_tracking_number,
            ),
            log_actor(request, viewer),
            rules=rules,
        )
    except (ReferralError, ChargingError) as error:
        db.rollback()
        page = _feedback_page(request, db, viewer, referral_id, error=str(error))
        return render(request, "referrals/feedback.html", page, status.HTTP_400_BAD_REQUEST)
    page = _feedback_page(request, db, viewer, referral_id)
    page.messages.append("The new arrest was forwarded for a charging decision.")
    return render(request, "referrals/feedback.html", page, status.HTTP_201_CREATED)


# --- case managers: intake ------------------------------------------------------------------


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


def _intake_page(
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
        page = _intake_page(request, db, viewer, referral_id, error=str(error))
        return render(request, "referrals/intake.html", page, status.HTTP_400_BAD_REQUEST)
    page = _intake_page(request, db, viewer, referral_id, done=done)
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
    page = _list_page(request, db, viewer, INTAKE_PURPOSE)
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
        page = _list_page(request, db, viewer, INTAKE_PURPOSE, error=str(error))
        return render(request, "referrals/social_contacts.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(f"/referrals/{referral.id}?created=1", status.HTTP_303_SEE_OTHER)
