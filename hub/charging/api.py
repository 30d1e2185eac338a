"""/api/v1 for a prosecutor's case-management system: the queue, recording decisions, reading
them back with the disclosures each is bound to, and the per-referral export. Same services,
same policy layer as the pages; bearer tokens only."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.charging import binding, checks, deciding
from hub.charging.binding import Part2BindingRefused
from hub.charging.checks import ChargingError
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.charging.routes import CHARGING_PURPOSE, csv_response, decision_export, queue_rows
from hub.db import ident
from hub.disclosure.identities import IdentityList, disclose_identities
from hub.disclosure.record_view import Identity, WithheldCategory
from hub.vocabulary import Action, Category, DeadlineStatus, DecisionOutcome
from hub.web.api import (
    API_DEPENDENCIES,
    NEXT_PAGE,
    ApiError,
    IsoDateTime,
    LogRef,
    NulFree,
    RecordId,
    RecordRef,
    api_errors,
)
from hub.web.dependencies import DB, log_actor, refused_as_not_found, require
from hub.web.paging import PageNumber

router = APIRouter(
    prefix="/api/v1/charging",
    tags=["charging"],
    responses=api_errors(),
    dependencies=API_DEPENDENCIES,
)

Prosecutor = Annotated[Viewer, Depends(require(Action.charging_decide))]
Exporter = Annotated[Viewer, Depends(require(Action.charging_export))]


class PersonOut(BaseModel):
    """Who the person is, or why that is withheld (the policy layer decided, and logged it)."""

    person_id: int
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    withheld: str | None = Field(default=None, description="the reason identity is withheld")


def _person(person_id: int, identity: Identity | WithheldCategory) -> PersonOut:
    if isinstance(identity, WithheldCategory):
        return PersonOut(person_id=person_id, withheld=identity.reason.value)
    return PersonOut(
        person_id=person_id,
        first_name=identity.first_name,
        last_name=identity.last_name,
        date_of_birth=identity.date_of_birth,
    )


class QueueItemOut(BaseModel):
    """A matter awaiting a decision. A null column is withheld by the policy (the intake
    clock needs the client's 42 CFR 2.35 consent; its due date follows from the referral
    date alone, and shows with the referral)."""

    matter_id: int
    person: PersonOut
    kind: str
    offense_tracking_number: str | None
    offenses: list[str] | None
    arrested_at: datetime | None
    deadline_status: DeadlineStatus | None
    intake_due_on: date | None
    more_information_asked: bool


class DecisionIn(BaseModel):
    outcome: DecisionOutcome
    reason_codes: list[NulFree] = Field(min_length=1)
    note: NulFree | None = Field(default=None, max_length=2000)
    material_seqs: list[LogRef] = Field(
        default_factory=list, description="log entries (seq) the decision relied on"
    )
    supersedes_id: RecordRef | None = Field(default=None, description="the decision this corrects")


class BoundOut(BaseModel):
    seq: int
    recorded_at: datetime
    tag: str
    purpose: str | None
    categories: list[str]
    material: bool


class DecisionOut(BaseModel):
    decision_id: int
    matter_id: int
    person: PersonOut
    offense_tracking_number: str
    outcome: DecisionOutcome
    reason_codes: list[str]
    note: str | None
    decided_at: datetime
    supersedes_id: int | None
    superseded_by: int | None
    tree_head_id: int | None
    bound_disclosures: list[BoundOut]


@router.get("/queue", responses=NEXT_PAGE)
def queue(
    request: Request, response: Response, db: DB, viewer: Prosecutor, page: PageNumber = 1
) -> list[QueueItemOut]:
    """Matters awaiting the office's decision, most urgent first, 50 a page; a further page is
    named by the Link header (rel="next")."""
    rows, paging = queue_rows(request, db, viewer, page)
    if paging.has_next:
        response.headers["Link"] = f'</api/v1/charging/queue?page={page + 1}>; rel="next"'
    return [
        QueueItemOut(
            matter_id=row.item.matter_id,
            person=_person(row.item.person_id, row.identity),
            kind=row.item.kind,
            offense_tracking_number=row.item.offense_tracking_number if row.shows_legal else None,
            offenses=row.item.offenses if row.shows_legal else None,
            arrested_at=row.item.arrested_at if row.shows_legal else None,
            deadline_status=row.item.deadline_status if row.shows_clock else None,
            intake_due_on=row.item.intake_due_on if row.shows_due else None,
            more_information_asked=row.item.standing_outcome is not None,
        )
        for row in rows
    ]


def _decisions_out(
    request: Request,
    db: Session,
    viewer: Viewer,
    rows: list[tuple[ChargingDecision, ChargingMatter]],
) -> list[DecisionOut]:
    known: IdentityList = disclose_identities(
        db,
        viewer,
        [m.person_id for _, m in rows],
        CHARGING_PURPOSE,
        log_actor(request, viewer),
        with_categories=(Category.legal,),
    )
    ids = [d.id for d, _ in rows if d.id is not None]
    bound = binding.bound_disclosures(db, ids)
    corrected = deciding.superseded_by(db, ids)
    return [
        DecisionOut(
            decision_id=ident(d.id),
            matter_id=ident(m.id),
            person=_person(m.person_id, known.identity(m.person_id)),
            offense_tracking_number=m.offense_tracking_number,
            outcome=d.outcome,
            reason_codes=list(d.reason_codes),
            note=d.note,
            decided_at=d.decided_at,
            supersedes_id=d.supersedes_id,
            superseded_by=corrected.get(ident(d.id)),
            tree_head_id=d.tree_head_id,
            bound_disclosures=[BoundOut(**vars(b)) for b in bound[ident(d.id)]],
        )
        for d, m in rows
        # The office's own decisions are legal data of its matters; the policy still decides.
        if known.allows(m.person_id, Category.legal)
    ]


@router.post(
    "/matters/{matter_id}/decisions",
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"model": ApiError},
        409: {"model": ApiError, "description": "42 CFR 2.12(d): refused, breach signal"},
        422: {"model": ApiError, "description": "the decision breaks a rule; nothing changed"},
    },
)
def record_decision(
    request: Request, db: DB, viewer: Prosecutor, matter_id: RecordId, body: DecisionIn
) -> DecisionOut:
    """Record a decision (or, with supersedes_id, a correction). It is bound to every
    disclosure about the client this prosecutor received since the referral."""
    try:
        checks.matter_for(db, viewer, matter_id)
    except ChargingError as error:
        raise refused_as_not_found(
            request, db, viewer, Action.charging_decide, str(error), matter_id=matter_id
        ) from error
    try:
        decision = deciding.record_decision(
            db,
            viewer,
            matter_id,
            body.outcome,
            body.reason_codes,
            body.note,
            body.material_seqs,
            log_actor(request, viewer),
            supersedes_id=body.supersedes_id,
        )
    except Part2BindingRefused as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except ChargingError as error:
        db.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    decision_row, matter = deciding.decision_for(db, viewer, ident(decision.id))
    return _decisions_out(request, db, viewer, [(decision_row, matter)])[0]


@router.get("/decisions")
def decisions(
    request: Request,
    db: DB,
    viewer: Prosecutor,
    since: Annotated[
        IsoDateTime | None,
        Query(
            description="Only decisions made at or after this moment: ISO 8601 with its time "
            "zone (2026-11-27T09:00:00Z); without a zone it is refused (422)."
        ),
    ] = None,
) -> list[DecisionOut]:
    """Every decision of the office (corrections and what they corrected), oldest first."""
    return _decisions_out(request, db, viewer, deciding.office_decisions(db, viewer, since=since))


@router.get("/decisions/{decision_id}", responses={404: {"model": ApiError}})
def decision(request: Request, db: DB, viewer: Prosecutor, decision_id: RecordId) -> DecisionOut:
    try:
        row = deciding.decision_for(db, viewer, decision_id)
    except ChargingError as error:
        raise refused_as_not_found(
            request, db, viewer, Action.charging_decide, str(error), decision_id=decision_id
        ) from error
    found = _decisions_out(request, db, viewer, [row])
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such decision for your office")
    return found[0]


@router.get(
    "/decisions/{decision_id}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export(request: Request, db: DB, viewer: Exporter, decision_id: RecordId) -> Response:
    """The per-referral decision export (CSV, the fields state reporting asks for). The export
    is a disclosure of the person's identity and is logged as one."""
    try:
        text = decision_export(request, db, viewer, decision_id)
    except ChargingError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
    return csv_response(text, decision_id)
