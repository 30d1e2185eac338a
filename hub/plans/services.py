"""Keeping a client's plan: goals in the client's own words, their status and their steps.

LEAD's rules shape it: the client sets the goals, a goal is met or set aside and never
"failed", there is no time limit and no sanction. A substance-use goal is treatment data (42 CFR
Part 2) whoever records it, so only someone who may write treatment data for the client (the
staff of a Part 2 program: hub.caserecord.writing) records or changes one. Each change keeps
its previous value in the record's history (`plan_goal:<id>`, record_section_change) and is a
security event naming the goal and what changed, never the words (they are client data)."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.caserecord.writing import (
    StaleVersion,
    WriteGrant,
    record_section_change,
    require_write,
    section_version,
)
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
    """No goal of that number for this client (or not one this viewer may write)."""


class GoalConflict(FormErrors):
    """The goal changed since the form was drawn: nothing was written (a 409 showing both)."""


def goal_section(goal_id: int) -> str:
    """The goal's section of the record's history: its words, status and steps."""
    return f"plan_goal:{goal_id}"


def goal_value(goal: PlanGoal) -> dict[str, object]:
    return {
        "goal": goal.goal,
        "domain": goal.domain.value if goal.domain else None,
        "status": goal.status,
        "services": goal.services,
    }


def step_value(step: PlanStep) -> dict[str, object]:
    return {
        "step_id": step.id,
        "step": step.step,
        "status": step.status.value,
        "on_date": step.on_date,
    }


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


def _refused(db: Session, actor: Actor, person_id: int, goal_id: int) -> None:
    # A goal of another client, or none: a refused access (ASVS V16), logged with the numbers.
    db.rollback()
    detail = {"action": Action.record_write.value, "person_id": person_id, "goal_id": goal_id}
    append_refusal(db, actor, detail)


def _logged(
    db: Session,
    actor: Actor,
    tag: SecurityEventTag,
    person_id: int,
    grant: WriteGrant,
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
            categories=[grant.category.value],
            policy_version=grant.read.policy_version,
            detail={**detail, "write_policy_version": grant.write_policy_version},
        ),
    )
    return entry.seq


def _history(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    grant: WriteGrant,
    goal_id: int,
    based_on: int,
    previous: dict[str, object] | None,
    saved: dict[str, object],
    recorded_by_id: int | None,
) -> None:
    """Keeps the change in the goal's history; a form drawn before the last change conflicts."""
    try:
        record_section_change(
            db,
            viewer,
            actor,
            grant.person_id,
            goal_section(goal_id),
            grant.category,
            based_on=based_on,
            previous=previous,
            saved=saved,
            previous_recorded_by_id=recorded_by_id,
            write_policy_version=grant.write_policy_version,
        )
    except StaleVersion as exc:
        raise GoalConflict(
            {
                "version": f"The goal changed since this form was opened (version {exc.current}, "
                f"the form had {exc.based_on}): look again and retry."
            }
        ) from None


def add_goal(db: Session, viewer: Viewer, person_id: int, form: GoalForm, actor: Actor) -> Written:
    """Records a goal the client set; raises FormErrors (every field at once) or WriteRefused
    (logged), and changes nothing then."""
    errors: dict[str, str] = {}
    goal_text = words(form.goal, "goal", errors)
    domain = choice(PlanDomain, form.domain, "domain", errors)
    services = form.services.strip() or None
    if errors:
        raise FormErrors(errors)
    assert domain is not None
    category = Category.treatment if domain == PlanDomain.substance_use else Category.plan
    with rollback_on_error(db):
        grant = require_write(db, viewer, person_id, category, actor)
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
        _history(db, viewer, actor, grant, goal.id, 0, None, goal_value(goal), None)
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_goal_changed,
            person_id,
            grant,
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
) -> tuple[PlanGoal, WriteGrant]:
    """The goal and the grant to write it (its category: plan, or treatment), or GoalNotFound
    for another client's goal (logged) and WriteRefused (logged by the write policy)."""
    try:
        goal = _goal_of(db, person_id, goal_id)
    except GoalNotFound:
        _refused(db, actor, person_id, goal_id)
        raise
    grant = require_write(db, viewer, person_id, goal_category(db, goal), actor)
    return goal, grant


def version_of(db: Session, goal_id: int, person_id: int) -> int:
    """The goal's version in the record's history: what a form carries to detect a conflict."""
    return section_version(db, person_id, goal_section(goal_id))


def change_goal(
    db: Session, viewer: Viewer, person_id: int, goal_id: int, form: GoalChangeForm, actor: Actor
) -> Written:
    """Changes a goal's status or words; a form drawn before the goal's last change raises
    GoalConflict and writes nothing, so nothing is silently overwritten."""
    errors: dict[str, str] = {}
    status = choice(GoalStatus, form.status, "status", errors)
    goal_text = form.goal.strip()
    based_on = form.version
    if errors:
        raise FormErrors(errors)
    assert status is not None
    with rollback_on_error(db):
        goal, grant = _writable_goal(db, viewer, person_id, goal_id, actor)
        previous = goal_value(goal)
        previous_status = goal.status
        goal.status = status.value
        if goal_text:
            goal.goal = goal_text
        goal.updated_at = utcnow()
        db.add(goal)
        db.flush()
        if based_on is None:
            based_on = version_of(db, goal_id, person_id)
        saved = goal_value(goal)
        _history(db, viewer, actor, grant, goal_id, based_on, previous, saved, goal.created_by_id)
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_goal_changed,
            person_id,
            grant,
            {
                "goal_id": goal_id,
                "change": "changed",
                "fields": [k for k in saved if saved[k] != previous[k]],
                "previous_status": previous_status,
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
        goal, grant = _writable_goal(db, viewer, person_id, goal_id, actor)
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
        based_on = version_of(db, goal_id, person_id)
        _history(db, viewer, actor, grant, goal_id, based_on, None, step_value(step), None)
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_step_changed,
            person_id,
            grant,
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
        goal, grant = _writable_goal(db, viewer, person_id, goal_id, actor)
        step = db.exec(
            select(PlanStep).where(PlanStep.id == step_id, PlanStep.goal_id == goal_id)
        ).first()
        if step is None:
            _refused(db, actor, person_id, goal_id)
            raise GoalNotFound("No step of that number for this goal.")
        previous = step_value(step)
        step.status = status
        if on_date is not None:
            step.on_date = on_date
        step.updated_at = goal.updated_at = utcnow()
        db.add_all([step, goal])
        db.flush()
        based_on = version_of(db, goal_id, person_id)
        saved = step_value(step)
        _history(db, viewer, actor, grant, goal_id, based_on, previous, saved, step.created_by_id)
        seq = _logged(
            db,
            actor,
            SecurityEventTag.plan_step_changed,
            person_id,
            grant,
            {
                "goal_id": goal_id,
                "step_id": step_id,
                "change": "changed",
                "previous_status": previous["status"],
                "status": status.value,
            },
        )
        return Written(goal_id, step_id, seq)
