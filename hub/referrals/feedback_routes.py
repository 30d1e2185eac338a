"""An officer's own referrals and what became of them (purpose: referral): the list, each
referral's feedback page, and a participant's new arrest forwarded from it.

Routes are thin: services decide, hub.disclosure says who a person is (and logs it).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.charging.checks import ChargingError
from hub.charging.matters import record_new_arrest
from hub.db import utcnow
from hub.disclosure.identities import disclose_identities
from hub.permissions import allowed
from hub.referrals import intake_list, officer_feedback
from hub.referrals.corrections import REASON_LABELS, correction_state
from hub.referrals.eligibility import ReferralError
from hub.referrals.forms import parse_local_time
from hub.referrals.intake_routes import intake_page
from hub.referrals.opening import ArrestDetails
from hub.referrals.pages import FeedbackRow, MyReferralsPage, ReferralFeedbackPage
from hub.referrals.routes import POLICE_PURPOSE, Officer, Referrer
from hub.referrals.rules import current_rules
from hub.vocabulary import Action, Category
from hub.web.dependencies import DB, CurrentViewer, log_actor, refused_as_not_found
from hub.web.paging import PageNumber, Paging
from hub.web.params import RecordNumber
from hub.web.templating import render

router = APIRouter()

CORRECTION_DONE = {
    "withdrawn": "The referral is withdrawn. The agencies it went to have been told.",
    "corrected": "The referral is corrected. The case management agency has been told.",
}


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
        page = intake_page(request, db, viewer, referral_id, created=created)
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
