"""Referral pages for officers and sergeants (purpose: referral): arrest and social-contact
referrals with the live eligibility screening and the duplicate check, and the social contact
list. Their feedback is in feedback_routes, case managers' intake in intake_routes; both take
their doors and purposes from here.

Routes are thin: services decide, hub.disclosure says who a person is (and logs it).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import append_refusal
from hub.db import utcnow
from hub.disclosure.identities import disclose_identities
from hub.permissions import allowed
from hub.referrals import intake_list, opening
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
    ListRow,
    ReferralFormPage,
    ScreeningFragment,
    SocialContactListPage,
)
from hub.referrals.referred_person import PersonRefused, PossibleDuplicate
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import Action, Purpose
from hub.web.dependencies import DB, log_actor, require
from hub.web.templating import render

router = APIRouter()

# Each page's purpose is fixed here, never taken from the request.
POLICE_PURPOSE = Purpose.referral
INTAKE_PURPOSE = Purpose.case_management

Referrer = Annotated[Viewer, Depends(require(Action.referrals_create))]
Officer = Annotated[Viewer, Depends(require(Action.referrals_feedback))]
ListKeeper = Annotated[Viewer, Depends(require(Action.social_contacts_add))]
CaseManager = Annotated[Viewer, Depends(require(Action.intake_manage))]
CommunityReferrer = Annotated[Viewer, Depends(require(Action.community_refer))]
CaseloadSupervisor = Annotated[Viewer, Depends(require(Action.caseload_approve))]


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


def refused(
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
    message, candidates = refused(request, db, viewer, error, form, Action.referrals_create)
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


def list_page(
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
    page = list_page(request, db, viewer, POLICE_PURPOSE)
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
        message, candidates = refused(request, db, viewer, error, form, Action.social_contacts_add)
        page = list_page(
            request, db, viewer, POLICE_PURPOSE, form, error=message, candidates=candidates
        )
        return render(request, "referrals/social_contacts.html", page, status.HTTP_400_BAD_REQUEST)
    return RedirectResponse("/social-contacts", status.HTTP_303_SEE_OTHER)
