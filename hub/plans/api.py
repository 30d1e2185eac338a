"""The plan and the ledger under /api/v1, for an agency's own case system: the same reads
(hub.disclosure.plans, logged) and the same writes (hub.plans.services,
hub.services_ledger.services, under the write policy) as the pages. Writes need a read-write
token (hub.web.api.refuse_read_only_writes)."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from hub.caserecord.writing import WriteRefused
from hub.clients.web import ClientReader, PersonId, RecordPurpose, not_found
from hub.db import utcnow
from hub.disclosure.plans import disclose_plan
from hub.disclosure.policy import PersonNotFound
from hub.plans.forms import FormErrors, GoalChangeForm, GoalForm, StepForm
from hub.plans.routes import REFUSED, RecordWriter
from hub.plans.services import GoalConflict, GoalNotFound, add_goal, add_step, change_goal
from hub.services_ledger.models import displaces
from hub.services_ledger.services import ServiceForm, ServiceNotFound, TurnForm, record_service
from hub.services_ledger.services import record_turn as record_bridge_turn
from hub.vocabulary import (
    Category,
    FundingSource,
    GoalStatus,
    PlanDomain,
    Purpose,
    ServiceKind,
    StepStatus,
    WithheldReason,
)
from hub.web.api import API_DEPENDENCIES, MAX_RECORD_ID, api_errors
from hub.web.dependencies import DB, log_actor

RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID, description="The record's number.")]

router = APIRouter(
    prefix="/api/v1",
    tags=["plans", "clients"],  # a client token needs clients:read or clients:write
    responses=api_errors(not_found="No client, goal or service this token may keep or see."),
    dependencies=API_DEPENDENCIES,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoalIn(GoalForm, Strict):
    pass


class GoalChangeIn(GoalChangeForm, Strict):
    pass


class StepIn(StepForm, Strict):
    pass


class ServiceIn(ServiceForm, Strict):
    pass


class TurnIn(TurnForm, Strict):
    pass


class Written(BaseModel):
    goal_id: int | None = None
    step_id: int | None = None
    service_id: int | None = None
    displacement: bool = False
    log_seq: int | None = None


def _write(write: Callable[[], Any]) -> Any:
    """Runs one write: 422 naming every bad field, 409 for a stale version, 404 for a client or
    record the token may not see, 403 for one it sees but may not keep (all logged)."""
    try:
        return write()
    except GoalConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except FormErrors as exc:
        # The app's validation answer: {"detail": [{"field", "problem"}, ...]}, every field.
        raise RequestValidationError(
            [{"loc": ("body", k), "msg": v, "type": "value_error"} for k, v in exc.errors.items()]
        ) from None
    except WriteRefused as exc:
        if exc.not_found:
            raise not_found() from None
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED) from None
    except (PersonNotFound, GoalNotFound, ServiceNotFound):
        raise not_found() from None


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    step: str
    status: StepStatus
    on_date: date | None
    updated_at: datetime | None


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    goal_id: int | None
    kind: ServiceKind
    category: Category
    provider: str
    provided_on: date
    units: int
    cost_cents: int
    funding_source: FundingSource
    waitlist: str | None
    waitlist_place: int | None
    turn_came_on: date | None
    part2: bool
    displacement: bool


class GoalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    goal: str
    domain: PlanDomain | None
    status: GoalStatus
    services_text: str | None
    created_at: datetime
    updated_at: datetime | None
    part2: bool
    steps: list[StepOut]
    services: list[ServiceOut]


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    person_id: int
    purpose: Purpose
    log_seq: int
    goals: list[GoalOut] | None = Field(description="None: the plan is withheld (see withheld).")
    services: list[ServiceOut] = Field(description="Services tied to no goal shown.")
    withheld: dict[Category, WithheldReason]
    part2_withheld: WithheldReason | None
    part2: bool
    redisclosure_notice: str | None = None


@router.get("/clients/{person_id:int}/plan", summary="Read a client's plan and services")
def read_plan(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> PlanOut:
    """The goals, steps and services the token holder may see; logged as one disclosure."""
    try:
        plan = disclose_plan(db, viewer, person_id, purpose, log_actor(request, viewer))
    except PersonNotFound:
        raise not_found() from None
    if not plan.identity_allowed:
        raise not_found()
    return PlanOut.model_validate(plan).model_copy(update={"redisclosure_notice": plan.notice})


@router.post(
    "/clients/{person_id:int}/plan/goals",
    status_code=status.HTTP_201_CREATED,
    summary="Add a goal the client set",
)
def create_goal(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, goal: GoalIn
) -> Written:
    actor = log_actor(request, viewer)
    done = _write(lambda: add_goal(db, viewer, person_id, goal, actor))
    return Written(goal_id=done.goal_id, log_seq=done.log_seq)


@router.post("/clients/{person_id:int}/plan/goals/{goal_id:int}", summary="Change a goal")
def update_goal(
    request: Request,
    db: DB,
    viewer: RecordWriter,
    person_id: PersonId,
    goal_id: RecordId,
    change: GoalChangeIn,
) -> Written:
    actor = log_actor(request, viewer)
    done = _write(lambda: change_goal(db, viewer, person_id, goal_id, change, actor))
    return Written(goal_id=done.goal_id, log_seq=done.log_seq)


@router.post(
    "/clients/{person_id:int}/plan/goals/{goal_id:int}/steps",
    status_code=status.HTTP_201_CREATED,
    summary="Add a step toward a goal",
)
def create_step(
    request: Request,
    db: DB,
    viewer: RecordWriter,
    person_id: PersonId,
    goal_id: RecordId,
    step: StepIn,
) -> Written:
    actor = log_actor(request, viewer)
    today = utcnow().date()
    done = _write(lambda: add_step(db, viewer, person_id, goal_id, step, actor, today))
    return Written(goal_id=done.goal_id, step_id=done.step_id, log_seq=done.log_seq)


@router.post(
    "/clients/{person_id:int}/services",
    status_code=status.HTTP_201_CREATED,
    summary="Record a service given or bought",
)
def create_service(
    request: Request, db: DB, viewer: RecordWriter, person_id: PersonId, service: ServiceIn
) -> Written:
    actor = log_actor(request, viewer)
    today = utcnow().date()
    done = _write(lambda: record_service(db, viewer, person_id, service, actor, today))
    return Written(service_id=done.id, goal_id=done.goal_id, displacement=displaces(done))


@router.post(
    "/clients/{person_id:int}/services/{service_id:int}/turn",
    summary="Record the day the client's turn on the bridged list came",
)
def bridge_turn(
    request: Request,
    db: DB,
    viewer: RecordWriter,
    person_id: PersonId,
    service_id: RecordId,
    turn: TurnIn,
) -> list[int]:
    """Ends the bridge; answers the services flagged as displacement by it."""
    actor = log_actor(request, viewer)
    today = utcnow().date()
    return _write(lambda: record_bridge_turn(db, viewer, person_id, service_id, turn, actor, today))
