"""Putting referrals right (issue 17, item 6): the sergeant's overrides list, one override
with its approve action, and the officer's correction or withdrawal of their own referral
within a day. Included before hub.referrals.routes, whose /referrals/{id} would otherwise take
/referrals/overrides.

Routes are thin: hub.referrals.corrections decides, hub.disclosure decides what of the
referral a sergeant may see (and logs it).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.db import utcnow
from hub.disclosure.identities import disclose_identities
from hub.referrals import corrections, officer_feedback
from hub.referrals.eligibility import ReferralError
from hub.referrals.feedback_routes import feedback_refused
from hub.referrals.pages import OverridesPage
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category, DisclosureTag, Purpose
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.paging import PageNumber, Paging
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

Sergeant = Annotated[Viewer, Depends(require(Action.referrals_overrides))]
Referrer = Annotated[Viewer, Depends(require(Action.referrals_create))]


def _overrides_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    referral_id: int | None = None,
    page: int = 1,
    **extra: Any,
) -> OverridesPage:
    """One page of the agency's overrides (or the one asked for); only those are disclosed."""
    paging = None
    if referral_id is None:
        paging = Paging(page, officer_feedback.override_count(db, viewer))
        items = officer_feedback.overrides_for_sergeant(
            db, viewer, offset=paging.offset, limit=paging.size
        )
    else:
        items = officer_feedback.overrides_for_sergeant(db, viewer, referral_id=referral_id)
    if referral_id is not None and not items:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.referrals_overrides,
            "No such override in your agency.",
            referral_id=referral_id,
        )
    # The reasons are referral data of the persons referred: decided and logged, though the
    # page names no one.
    known = disclose_identities(
        db,
        viewer,
        [i.person_id for i in items],
        Purpose.referral,
        log_actor(request, viewer),
        with_categories=(Category.referral,),
        tag=DisclosureTag.referral_overrides_read,
        with_identity=False,
    )
    staff = {i.referring_user_id for i in items} | {
        i.approved_by_id for i in items if i.approved_by_id is not None
    }
    rules = current_rules(db)
    title = "Overrides of presumptive exclusions"
    return OverridesPage(
        title=title if referral_id is None else f"Override on referral {referral_id}",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        items=items,
        officers=corrections.display_names(db, staff),
        disclosed=frozenset(
            i.referral_id for i in items if known.allows(i.person_id, Category.referral)
        ),
        exclusion_labels={e.code: e.label for e in rules.exclusions},
        single=referral_id is not None,
        paging=paging,
        **extra,
    )


@router.get("/referrals/overrides", response_class=HTMLResponse)
def overrides(request: Request, db: DB, viewer: Sergeant, page: PageNumber = 1) -> Response:
    listing = _overrides_page(request, db, viewer, page=page)
    return render(request, "referrals/overrides.html", listing)


@router.get("/referrals/overrides/{referral_id}", response_class=HTMLResponse)
def override(request: Request, db: DB, viewer: Sergeant, referral_id: RecordNumber) -> Response:
    page = _overrides_page(request, db, viewer, referral_id)
    return render(request, "referrals/overrides.html", page)


@router.post("/referrals/overrides/{referral_id}/approve", response_class=HTMLResponse)
def approve(request: Request, db: DB, viewer: Sergeant, referral_id: RecordNumber) -> Response:
    """A second person approves the override: a sergeant who made the referral cannot."""
    try:
        corrections.approve_override(
            db, viewer, referral_id, log_actor(request, viewer), now=utcnow()
        )
    except ReferralError as error:
        db.rollback()
        page = _overrides_page(request, db, viewer, referral_id, error=str(error))
        return render(request, "referrals/overrides.html", page, status.HTTP_400_BAD_REQUEST)
    page = _overrides_page(request, db, viewer, referral_id)
    page.messages.append("The override is approved.")
    return render(request, "referrals/overrides.html", page)


# --- the officer: a referral made in error ------------------------------------------------


def _refused(request: Request, db: Session, viewer: Viewer, referral_id: int, message: str) -> str:
    """After the rollback: the feedback page again, with the message (an unknown or another
    officer's referral answers 404, logged, as the feedback page does)."""
    db.rollback()
    try:
        corrections.correction_state(db, viewer, referral_id, utcnow())
    except ReferralError as error:
        raise refused_as_not_found(
            request,
            db,
            viewer,
            Action.referrals_feedback,
            str(error),
            referral_id=referral_id,
        ) from error
    return message


def _back(referral_id: int, done: str) -> Response:
    return RedirectResponse(f"/referrals/{referral_id}?done={done}", status.HTTP_303_SEE_OTHER)


@router.post("/referrals/{referral_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    request: Request,
    db: DB,
    viewer: Referrer,
    referral_id: RecordNumber,
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """The officer withdraws their own referral made in error, within 24 hours."""
    try:
        corrections.withdraw_referral(
            db, viewer, referral_id, reason, note, log_actor(request, viewer), now=utcnow()
        )
    except ReferralError as error:
        message = _refused(request, db, viewer, referral_id, str(error))
        return feedback_refused(request, db, viewer, referral_id, message)
    return _back(referral_id, "withdrawn")


@router.post("/referrals/{referral_id}/correct", response_class=HTMLResponse)
def correct(
    request: Request,
    db: DB,
    viewer: Referrer,
    referral_id: RecordNumber,
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    precinct: Annotated[str, Form(max_length=100)] = "",
    case_management_agency_id: Annotated[RecordNumber | None, Form()] = None,
) -> Response:
    """The officer corrects the precinct or the case management agency, within 24 hours."""
    try:
        corrections.correct_referral(
            db,
            viewer,
            referral_id,
            reason,
            note,
            log_actor(request, viewer),
            precinct=precinct,
            case_management_agency_id=case_management_agency_id,
            now=utcnow(),
        )
    except ReferralError as error:
        message = _refused(request, db, viewer, referral_id, str(error))
        return feedback_refused(request, db, viewer, referral_id, message)
    return _back(referral_id, "corrected")
