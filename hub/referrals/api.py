"""/api/v1 for police records systems: submit a referral, and read the status of one's own
referrals. Same services, same policy layer as the pages; bearer tokens only.

Police are told nothing of who is on file: particulars that resemble a person on file make a
new person all the same, and the case management agency reconciles the referral; the answer
is the same whether or not there was a match. (A referrer of another kind would get the
duplicate check's 409, with candidate ids and a token to confirm "none of these".)"""

import base64
import hashlib
import hmac
import json
import time
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from hub.accounts.sessions import Viewer
from hub.db import ident
from hub.permissions import permits
from hub.referrals import officer_feedback, opening
from hub.referrals.checks import RECONCILIATION
from hub.referrals.eligibility import PriorConviction, ReferralError, ScreeningAnswers
from hub.referrals.feedback_routes import feedback_rows, own_referral
from hub.referrals.forms import NONE_OF_THESE, PersonFields, choose_person, prior_involvement
from hub.referrals.opening import ArrestDetails
from hub.referrals.referred_person import PossibleDuplicate
from hub.referrals.routes import log_person_refusal
from hub.referrals.rules import current_rules
from hub.settings import get_settings
from hub.vocabulary import Action, EligibilityResult, PriorInvolvementKind, ProgramStatus
from hub.web.api import (
    API_DEPENDENCIES,
    NEXT_PAGE,
    ApiError,
    CodeRef,
    NulFree,
    RecordId,
    RecordRef,
    api_errors,
)
from hub.web.dependencies import DB, log_actor, require
from hub.web.paging import PAGE_SIZE, Before, Limit, keyset_page

router = APIRouter(
    prefix="/api/v1", tags=["referrals"], responses=api_errors(), dependencies=API_DEPENDENCIES
)

Referrer = Annotated[Viewer, Depends(require(Action.referrals_create))]
Officer = Annotated[Viewer, Depends(require(Action.referrals_feedback))]
CONFIRM_SECONDS = 15 * 60


class PersonIn(BaseModel):
    first_name: NulFree = Field(max_length=100)
    last_name: NulFree = Field(max_length=100)
    date_of_birth: date | None = None
    aliases: list[NulFree] = Field(default_factory=list, max_length=10)
    race_ethnicity: list[CodeRef] = Field(default_factory=list, description="HUD HMIS 3.04 codes")
    gender: list[CodeRef] = Field(default_factory=list, description="HUD HMIS 3.06 codes")


class ConvictionIn(BaseModel):
    offense_class: NulFree = Field(max_length=64)
    convicted_on: date


class ScreeningIn(BaseModel):
    convictions: list[ConvictionIn] = Field(default_factory=list)
    facts: list[NulFree] = Field(default_factory=list, description="fact exclusions answered yes")


class ArrestIn(BaseModel):
    offenses: list[NulFree] = Field(min_length=1)
    arrested_at: AwareDatetime
    place: NulFree = Field(max_length=200)
    precinct: NulFree = Field(max_length=100)
    offense_tracking_number: NulFree = Field(max_length=40)


class PriorInvolvementIn(BaseModel):
    kind: PriorInvolvementKind
    reference: NulFree = Field(max_length=100)


class ReferralIn(BaseModel):
    """A referral as a police records system submits it. `existing_person_id` names a person
    the submitting officer referred before; any other is refused (422)."""

    kind: Literal["arrest", "social_contact"]
    person: PersonIn
    existing_person_id: RecordRef | None = Field(
        default=None, description="a person this officer referred before; no one else"
    )
    confirm_token: NulFree | None = Field(default=None, max_length=1000)
    case_management_agency_id: RecordRef
    arrest: ArrestIn | None = None
    offense_category: NulFree | None = Field(default=None, max_length=32)
    prior_involvement: PriorInvolvementIn | None = None
    precinct: NulFree | None = Field(default=None, max_length=100)
    screening: ScreeningIn = Field(default_factory=ScreeningIn)
    override_reason: NulFree | None = Field(default=None, max_length=1000)


class ReferralCreated(BaseModel):
    referral_id: int
    person_id: int
    matter_id: int | None
    eligibility: EligibilityResult
    intake_due_on: date
    reconciliation: str | None = Field(
        default=None, description="for police: the same words whether or not anyone matched"
    )


class CandidateOut(BaseModel):
    person_id: int
    score: float
    reason: str = Field(description="why they may be the same person; names no name")


class DuplicatesOut(BaseModel):
    detail: str
    candidates: list[CandidateOut]
    confirm_token: str = Field(description="send back to confirm none of these is the person")


class ReferralStatusOut(BaseModel):
    """An officer's own referral: status only, nothing clinical. A null is withheld."""

    referral_id: int
    kind: str
    referred_at: datetime
    program_status: ProgramStatus | None
    charging: str | None


# --- the confirmation token ----------------------------------------------------------------


def _person_digest(person: PersonIn) -> str:
    data = [person.first_name, person.last_name, str(person.date_of_birth), *person.aliases]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _sign(payload: bytes) -> str:
    secret = get_settings().secret_key
    assert secret is not None
    return hmac.new(secret.get_secret_value().encode(), payload, hashlib.sha256).hexdigest()


def confirm_token(viewer: Viewer, person: PersonIn, candidate_ids: list[int]) -> str:
    """Signed: this user was shown these candidates for these particulars, just now."""
    body = json.dumps(
        {
            "u": viewer.user_id,
            "p": _person_digest(person),
            "c": candidate_ids,
            "t": int(time.time()),
        }
    ).encode()
    return base64.urlsafe_b64encode(body).decode() + "." + _sign(body)


def confirmed_candidates(viewer: Viewer, person: PersonIn, token: str) -> list[int]:
    """The candidate ids a confirmation token vouches for; refuses a forged, stale or
    someone else's token, or one for other particulars."""
    encoded, _, signature = token.partition(".")
    try:
        body = base64.urlsafe_b64decode(encoded.encode())
        claims = json.loads(body)
    except (ValueError, json.JSONDecodeError):
        raise ReferralError("the confirmation token is not valid") from None
    if not hmac.compare_digest(_sign(body), signature) or not isinstance(claims, dict):
        raise ReferralError("the confirmation token is not valid")
    if claims.get("u") != viewer.user_id or claims.get("p") != _person_digest(person):
        raise ReferralError("the confirmation token is for another referral")
    if time.time() - int(claims.get("t", 0)) > CONFIRM_SECONDS:
        raise ReferralError("the confirmation token has expired: submit the referral again")
    return [int(c) for c in claims.get("c", [])]


# --- routes ------------------------------------------------------------------------------------


def _person_fields(viewer: Viewer, body: ReferralIn) -> PersonFields:
    person = body.person
    fields = PersonFields(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else "",
        aliases="\n".join(person.aliases),
        race_ethnicity=person.race_ethnicity,
        gender=person.gender,
    )
    if body.existing_person_id is not None:
        fields.person_choice = str(body.existing_person_id)
    elif body.confirm_token:
        fields.person_choice = NONE_OF_THESE
        fields.candidate_ids = confirmed_candidates(viewer, person, body.confirm_token)
    return fields


@router.post(
    "/referrals",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralCreated,
    responses={
        409: {"model": DuplicatesOut, "description": "possible duplicates on file"},
        422: {"model": ApiError, "description": "the referral breaks a rule; nothing changed"},
    },
)
def submit_referral(request: Request, db: DB, viewer: Referrer, body: ReferralIn) -> Any:
    """Submit an arrest or social-contact referral. The eligibility screening runs on the
    site's rules; a presumptively excluded referral needs `override_reason`."""
    rules = current_rules(db)
    answers = ScreeningAnswers(
        convictions=tuple(
            PriorConviction(c.offense_class, c.convicted_on) for c in body.screening.convictions
        ),
        facts=frozenset(body.screening.facts),
    )
    actor = log_actor(request, viewer)
    matter_id = None
    try:
        choice = choose_person(db, _person_fields(viewer, body), rules, viewer)
        if body.kind == "arrest":
            if body.arrest is None:
                raise ReferralError("an arrest referral needs the arrest")
            referral, matter = opening.create_arrest_referral(
                db,
                viewer,
                choice,
                ArrestDetails(
                    offenses=tuple(body.arrest.offenses),
                    arrested_at=body.arrest.arrested_at,
                    place=body.arrest.place,
                    precinct=body.arrest.precinct,
                    offense_tracking_number=body.arrest.offense_tracking_number,
                ),
                body.case_management_agency_id,
                answers,
                actor,
                override_reason=body.override_reason,
                rules=rules,
            )
            matter_id = matter.id
        else:
            if body.prior_involvement is None or body.offense_category is None:
                raise ReferralError("a social contact referral points to prior involvement")
            referral = opening.create_social_contact_referral(
                db,
                viewer,
                choice,
                body.offense_category,
                prior_involvement(
                    body.prior_involvement.kind.value, body.prior_involvement.reference
                ),
                body.case_management_agency_id,
                answers,
                actor,
                precinct=body.precinct,
                override_reason=body.override_reason,
                rules=rules,
            )
    except PossibleDuplicate as duplicates:
        db.rollback()
        ids = [c.person_id for c in duplicates.candidates]
        out = DuplicatesOut(
            detail=str(duplicates),
            candidates=[
                CandidateOut(person_id=c.person_id, score=c.score, reason=c.reason)
                for c in duplicates.candidates
            ],
            confirm_token=confirm_token(viewer, body.person, ids),
        )
        return JSONResponse(out.model_dump(), status_code=status.HTTP_409_CONFLICT)
    except ReferralError as error:
        db.rollback()
        log_person_refusal(request, db, viewer, error, Action.referrals_create)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return ReferralCreated(
        referral_id=ident(referral.id),
        person_id=referral.person_id,
        matter_id=matter_id,
        eligibility=EligibilityResult(referral.eligibility),
        intake_due_on=referral.intake_due_on,
        reconciliation=RECONCILIATION if permits(viewer, Action.referrals_create) else None,
    )


def _status(
    request: Request, db: DB, viewer: Viewer, items: list[officer_feedback.OfficerReferralStatus]
) -> list[ReferralStatusOut]:
    return [
        ReferralStatusOut(
            referral_id=row.item.referral_id,
            kind=row.item.kind.value,
            referred_at=row.item.referred_at,
            program_status=row.item.program_status if row.shows_status else None,
            charging=row.item.charging if row.shows_charging else None,
        )
        for row in feedback_rows(request, db, viewer, items)
    ]


@router.get("/referrals", responses=NEXT_PAGE)
def referral_statuses(
    request: Request,
    response: Response,
    db: DB,
    viewer: Officer,
    before: Before = None,
    limit: Limit = PAGE_SIZE,
) -> list[ReferralStatusOut]:
    """The status of the officer's own referrals (officer feedback), newest first by referral
    id, `limit` a page (50 unless asked); a further page is named by the Link header
    (rel="next", `?before=<the page's last referral_id>`). Only the page's persons are
    disclosed and logged."""
    rows = officer_feedback.officer_referrals_before(db, viewer, before=before, limit=limit + 1)
    page, next_before = keyset_page(rows, limit, lambda row: row.referral_id)
    if next_before is not None:
        response.headers["Link"] = (
            f'</api/v1/referrals?before={next_before}&limit={limit}>; rel="next"'
        )
    return _status(request, db, viewer, page)


@router.get("/referrals/{referral_id}", responses={404: {"model": ApiError}})
def referral_status(
    request: Request, db: DB, viewer: Officer, referral_id: RecordId
) -> ReferralStatusOut:
    """The status of one of the officer's own referrals."""
    item = own_referral(request, db, viewer, referral_id)
    return _status(request, db, viewer, [item])[0]
