"""The plan page of a client: goals, steps and services (`/clients/{id}/plan`), full page and
htmx fragment. Thin: hub.disclosure.plans decides and logs every read, hub.plans.services and
hub.services_ledger.services every write; the purpose is fixed by the viewer's role."""

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.caserecord.writing import WriteRefused, may_write
from hub.clients.web import ClientReader, PersonId, RecordPurpose, not_found
from hub.db import utcnow
from hub.disclosure.plans import DisclosedPlan, disclose_plan
from hub.disclosure.policy import PersonNotFound
from hub.permissions import allowed
from hub.plans.forms import FormErrors, GoalChangeForm, GoalForm, StepForm
from hub.plans.services import (
    GoalConflict,
    GoalNotFound,
    add_goal,
    add_step,
    change_goal,
    change_step,
    version_of,
)
from hub.services_ledger.services import (
    ServiceForm,
    ServiceNotFound,
    TurnForm,
    record_service,
    record_turn,
)
from hub.vocabulary import (
    Action,
    Category,
    FundingSource,
    GoalStatus,
    PlanDomain,
    Purpose,
    ServiceKind,
    StepStatus,
)
from hub.web.dependencies import DB, log_actor, require
from hub.web.params import RecordNumber
from hub.web.templating import Page, is_htmx, render

router = APIRouter(include_in_schema=False)

# The door (hub.permissions); the write policy decides each write (hub.caserecord.writing).
RecordWriter = Annotated[Viewer, Depends(require(Action.record_write))]
PlanWriter = RecordWriter
ServiceWriter = RecordWriter
REFUSED = "You cannot keep this part of this client's record; the attempt was logged."


@dataclass
class PlanPage(Page):
    person_id: int = 0
    plan: DisclosedPlan | None = None
    notice: str | None = None
    can_write_plan: bool = False
    can_write_services: bool = False
    # Which form the errors are for ("goal", "goal-7", "step-7", "service", "turn-12").
    form: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    # Each goal's version in the record's history, which its form carries (a stale form conflicts).
    versions: dict[int, int] = field(default_factory=dict)
    domains: tuple[PlanDomain, ...] = tuple(PlanDomain)
    goal_statuses: tuple[GoalStatus, ...] = tuple(GoalStatus)
    step_statuses: tuple[StepStatus, ...] = tuple(StepStatus)
    kinds: tuple[ServiceKind, ...] = tuple(ServiceKind)
    sources: tuple[FundingSource, ...] = tuple(FundingSource)
    standalone: bool = False


def _today() -> date:
    return utcnow().date()


def _read(db: Session, viewer: Viewer, person_id: int, purpose: Purpose, request: Request) -> Any:
    try:
        plan = disclose_plan(db, viewer, person_id, purpose, log_actor(request, viewer))
    except PersonNotFound:
        raise not_found() from None
    if not plan.identity_allowed:
        raise not_found()
    return plan


def _page(
    db: Session,
    viewer: Viewer,
    person_id: int,
    purpose: Purpose,
    request: Request,
    **extra: Any,
) -> PlanPage:
    plan = _read(db, viewer, person_id, purpose, request)
    writes = allowed(viewer.role, Action.record_write) and may_write(
        db, viewer, person_id, Category.plan
    )
    versions = {g.id: version_of(db, g.id, person_id) for g in plan.goals or ()}
    db.rollback()  # SQLite: release the read before the next write
    return PlanPage(
        title="Plan",
        viewer=viewer,
        csrf_token=viewer.csrf_token,
        person_id=person_id,
        plan=plan,
        notice=plan.notice,
        can_write_plan=writes,
        can_write_services=writes,
        versions=versions,
        **extra,
    )


def _answer(request: Request, page: PlanPage, code: int = status.HTTP_200_OK) -> Response:
    if is_htmx(request):
        page.standalone = True
        # htmx swaps only 2xx answers: the fragment carries its errors itself.
        return render(request, "plans/_plan.html", page)
    return render(request, "plans/plan.html", page, code)


def _written(
    request: Request,
    db: Session,
    viewer: Viewer,
    person_id: int,
    purpose: Purpose,
    form_name: str,
    form: Any,
    write: Any,
) -> Response:
    """Runs one write; answers with the plan again (htmx) or a redirect to it, the form with
    every error at once (422), or 404 for a client or goal the viewer may not write."""
    try:
        write()
    except WriteRefused as exc:
        if exc.not_found:
            raise not_found() from None
        raise HTTPException(status.HTTP_403_FORBIDDEN, REFUSED) from None
    except FormErrors as exc:
        code = (
            status.HTTP_409_CONFLICT
            if isinstance(exc, GoalConflict)
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
        page = _page(
            db,
            viewer,
            person_id,
            purpose,
            request,
            form=form_name,
            errors=exc.errors,
            values=form.model_dump(),
        )
        return _answer(request, page, code)
    except (PersonNotFound, GoalNotFound, ServiceNotFound):
        raise not_found() from None
    if is_htmx(request):
        return _answer(request, _page(db, viewer, person_id, purpose, request))
    return RedirectResponse(f"/clients/{person_id}/plan", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/clients/{person_id}/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, db: DB, viewer: ClientReader, purpose: RecordPurpose, person_id: PersonId
) -> Response:
    return _answer(request, _page(db, viewer, person_id, purpose, request))


@router.post("/clients/{person_id}/plan/goals", response_class=HTMLResponse)
def goal_add(
    request: Request,
    db: DB,
    viewer: PlanWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    form: Annotated[GoalForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        "goal",
        form,
        lambda: add_goal(db, viewer, person_id, form, actor),
    )


@router.post("/clients/{person_id}/plan/goals/{goal_id}", response_class=HTMLResponse)
def goal_change(
    request: Request,
    db: DB,
    viewer: PlanWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    goal_id: RecordNumber,
    form: Annotated[GoalChangeForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        f"goal-{goal_id}",
        form,
        lambda: change_goal(db, viewer, person_id, goal_id, form, actor),
    )


@router.post("/clients/{person_id}/plan/goals/{goal_id}/steps", response_class=HTMLResponse)
def step_add(
    request: Request,
    db: DB,
    viewer: PlanWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    goal_id: RecordNumber,
    form: Annotated[StepForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        f"step-{goal_id}",
        form,
        lambda: add_step(db, viewer, person_id, goal_id, form, actor, _today()),
    )


@router.post(
    "/clients/{person_id}/plan/goals/{goal_id}/steps/{step_id}", response_class=HTMLResponse
)
def step_change(
    request: Request,
    db: DB,
    viewer: PlanWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    goal_id: RecordNumber,
    step_id: RecordNumber,
    form: Annotated[StepForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        f"step-{goal_id}-{step_id}",
        form,
        lambda: change_step(db, viewer, person_id, goal_id, step_id, form, actor, _today()),
    )


@router.post("/clients/{person_id}/services", response_class=HTMLResponse)
def service_add(
    request: Request,
    db: DB,
    viewer: ServiceWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    form: Annotated[ServiceForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        "service",
        form,
        lambda: record_service(db, viewer, person_id, form, actor, _today()),
    )


@router.post("/clients/{person_id}/services/{service_id}/turn", response_class=HTMLResponse)
def service_turn(
    request: Request,
    db: DB,
    viewer: ServiceWriter,
    purpose: RecordPurpose,
    person_id: PersonId,
    service_id: RecordNumber,
    form: Annotated[TurnForm, Form()],
) -> Response:
    actor = log_actor(request, viewer)
    return _written(
        request,
        db,
        viewer,
        person_id,
        purpose,
        f"turn-{service_id}",
        form,
        lambda: record_turn(db, viewer, person_id, service_id, form, actor, _today()),
    )
