"""Keeping a client's plan: goals in the client's own words, their status and their steps.

LEAD's rules shape it: the client sets the goals, a goal is met or set aside and never
"failed", there is no time limit and no sanction. A substance-use goal is treatment data (42 CFR
Part 2) whoever records it, so only someone who may write treatment data for the client records
or changes one (hub.plans.gate). Each change is a security event naming the goal and what
changed, never the words (they are client data), and commits with the change."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.clients.models import PlanGoal
from hub.db import rollback_on_error, utcnow
from hub.disclosure.origin import part2_ids
from hub.plans.forms import (
    STEP_DATE_FUTURE,
    STEP_DATE_PAST,
    FormErrors,
    GoalChangeForm,
    GoalForm,
    StepForm,
    bounded_date,
    choice,
    words,
)
from hub.plans.gate import PersonNotFound, WriteRefused, require_write
from hub.plans.models import PlanStep
from hub.vocabulary import (
    Action,
    Category,
    GoalStatus,
    PlanDomain,
    Purpose,
    SecurityEventTag,
    StepStatus,
)


class GoalNotFound(LookupError):
    """No goal of that number for this client."""


@dataclass(frozen=True)
class Written:
    """What a write changed: the goal (and step) numbers and the log entry that records it."""

    goal_id: int
    step_id: int | None
    log_seq: int


def goal_category(db: Session, goal: PlanGoal) -> Category:
    """Treatment for a substance-use goal or one a Part 2 program recorded; plan otherwise."""
    if goal.domain == PlanDomain.substance_use:
        return Category.treatment
    if goal.id is not None and part2_ids(db, PlanGoal, [goal.id]):
        return Category.treatment
    return Category.plan


def _refused(db: Session, actor: Actor, person_id: int, goal_id: int | None) -> None:
    # A refused write is a refused access (ASVS V16): logged with the numbers, never the words.
    db.rollback()
    detail: dict[str, object] = {"action": Action.plans_write.value, "person_id": person_id}
    if goal_id is not None:
        detail["goal_id"] = goal_id
    append_refusal(db, actor, detail)


def _logged(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    person_id: int,
    category: Category,
    policy_version: str,
    detail: dict[str, object],
) -> int:
    entry = append_and_commit(
        db,
        actor,
        Event(
            kind="security",
            tag=tag.value,
            outcome="success",
            purpose=Purpose.case_management.value,
            person_id=person_id,
            categories=[category.value],
            policy_version=policy_version,
            detail=detail,
        ),
    )
    return entry.seq


def add_goal(db: Session, viewer: Viewer, person_id: int, form: GoalForm, actor: Actor) -> Written:
    """Records a goal the client set; raises FormErrors (every field at once), WriteRefused or
    PersonNotFound, and changes nothing then."""
    errors: dict[str, str] = {}
    goal_text = words(form.goal, "goal", errors)
    domain = choice(PlanDomain, form.domain, "domain", errors)
    services = form.services.strip() or None
    if errors:
        raise FormErrors(errors)
    assert domain is not None
    category = Category.treatment if domain == PlanDomain.substance_use else Category.plan
    with rollback_on_error(db):
        try:
            decision = require_write(db, viewer, person_id, category, Action.plans_write)
        except (WriteRefused, PersonNotFound):
            _refused(db, actor, person_id, None)
            raise
        now = utcnow()
        goal = PlanGoal(
            person_id=person_id,
            goal=goal_text,
            domain=domain,
            services=services,
            status=GoalStatus.open.value,
            created_at=now,
            created_by_id=viewer.user_id,
            updated_at=now,
        )
        db.add(goal)
        db.flush()
        assert goal.id is not None
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_goal_changed,
            person_id,
            category,
            decision.policy_version,
            {"goal_id": goal.id, "change": "added", "domain": domain.value},
        )
        return Written(goal.id, None, seq)


def _goal_of(db: Session, person_id: int, goal_id: int) -> PlanGoal:
    goal = db.exec(
        select(PlanGoal).where(PlanGoal.id == goal_id, PlanGoal.person_id == person_id)
    ).first()
    if goal is None:
        raise GoalNotFound("No goal of that number for this client.")
    return goal


def _writable_goal(
    db: Session, viewer: Viewer, person_id: int, goal_id: int, actor: Actor
) -> tuple[PlanGoal, Category, str]:
    """The goal, its category and the policy version, once the viewer may write it; a goal
    they may not write answers as no goal (its existence is not told) and is logged."""
    try:
        goal = _goal_of(db, person_id, goal_id)
        category = goal_category(db, goal)
        decision = require_write(db, viewer, person_id, category, Action.plans_write)
    except (WriteRefused, PersonNotFound, GoalNotFound):
        _refused(db, actor, person_id, goal_id)
        raise GoalNotFound("No goal of that number for this client.") from None
    return goal, category, decision.policy_version


def change_goal(
    db: Session, viewer: Viewer, person_id: int, goal_id: int, form: GoalChangeForm, actor: Actor
) -> Written:
    """Changes a goal's status or words; a form drawn before the goal's last change is
    refused (FormErrors on `seen`), so nothing is silently overwritten."""
    errors: dict[str, str] = {}
    status = choice(GoalStatus, form.status, "status", errors)
    goal_text = form.goal.strip()
    if errors:
        raise FormErrors(errors)
    assert status is not None
    with rollback_on_error(db):
        goal, category, version = _writable_goal(db, viewer, person_id, goal_id, actor)
        seen = goal.updated_at.isoformat() if goal.updated_at else ""
        if form.seen and form.seen != seen:
            raise FormErrors(
                {"seen": "The goal changed since this form was opened: look again and retry."}
            )
        previous = goal.status
        goal.status = status.value
        changed = ["status"] if previous != status.value else []
        if goal_text and goal_text != goal.goal:
            goal.goal = goal_text
            changed.append("goal")
        goal.updated_at = utcnow()
        db.add(goal)
        db.flush()
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_goal_changed,
            person_id,
            category,
            version,
            {
                "goal_id": goal_id,
                "change": "changed",
                "fields": changed,
                "previous_status": previous,
                "status": status.value,
            },
        )
        return Written(goal_id, None, seq)


def add_step(
    db: Session,
    viewer: Viewer,
    person_id: int,
    goal_id: int,
    form: StepForm,
    actor: Actor,
    today: date,
) -> Written:
    """Adds a step toward a goal (planned by default), with the date it is due or was done."""
    errors: dict[str, str] = {}
    text = words(form.step, "step", errors)
    status = choice(StepStatus, form.status, "status", errors, default=StepStatus.planned)
    on_date = bounded_date(
        form.on_date, "on_date", errors, today, past=STEP_DATE_PAST, future=STEP_DATE_FUTURE
    )
    if errors:
        raise FormErrors(errors)
    assert status is not None
    with rollback_on_error(db):
        goal, category, version = _writable_goal(db, viewer, person_id, goal_id, actor)
        now = utcnow()
        step = PlanStep(
            goal_id=goal_id,
            person_id=person_id,
            step=text,
            status=status,
            on_date=on_date,
            created_at=now,
            created_by_id=viewer.user_id,
            updated_at=now,
        )
        goal.updated_at = now
        db.add_all([step, goal])
        db.flush()
        assert step.id is not None
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_step_changed,
            person_id,
            category,
            version,
            {"goal_id": goal_id, "step_id": step.id, "change": "added", "status": status.value},
        )
        return Written(goal_id, step.id, seq)


def change_step(
    db: Session,
    viewer: Viewer,
    person_id: int,
    goal_id: int,
    step_id: int,
    form: StepForm,
    actor: Actor,
    today: date,
) -> Written:
    """Changes a step's status (and its date, when one is given)."""
    errors: dict[str, str] = {}
    status = choice(StepStatus, form.status, "status", errors)
    on_date = bounded_date(
        form.on_date, "on_date", errors, today, past=STEP_DATE_PAST, future=STEP_DATE_FUTURE
    )
    if errors:
        raise FormErrors(errors)
    assert status is not None
    with rollback_on_error(db):
        goal, category, version = _writable_goal(db, viewer, person_id, goal_id, actor)
        step = db.exec(
            select(PlanStep).where(PlanStep.id == step_id, PlanStep.goal_id == goal_id)
        ).first()
        if step is None:
            _refused(db, actor, person_id, goal_id)
            raise GoalNotFound("No step of that number for this goal.")
        previous = step.status
        step.status = status
        if on_date is not None:
            step.on_date = on_date
        step.updated_at = goal.updated_at = utcnow()
        db.add_all([step, goal])
        db.flush()
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_step_changed,
            person_id,
            category,
            version,
            {
                "goal_id": goal_id,
                "step_id": step_id,
                "change": "changed",
                "previous_status": previous.value,
                "status": status.value,
            },
        )
        return Written(goal_id, step_id, seq)
