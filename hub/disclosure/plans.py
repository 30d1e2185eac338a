"""Reading a client's plan through the policy: goals, their steps and the services tied to them.

    plan = disclose_plan(db, viewer, person_id, purpose, actor)

decides as a record read does (hub.disclosure.policy), reads only the goals, steps and services
the decision allows, appends one disclosure entry naming what was shown and commits, in one
transaction. A goal is plan data, but a substance-use goal or one a Part 2 program recorded is
treatment data (hub.disclosure.origin); a step goes with its goal; a service is plan data, or
health or treatment for a clinical kind (hub.services_ledger.models.KIND_CATEGORY), and Part 2
data where a Part 2 program recorded it.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.clients.models import PlanGoal
from hub.db import rollback_on_error, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.origin import allowed_rows, part2_origin
from hub.disclosure.policy import Decision, decide, gather_facts
from hub.disclosure.releases import policy_in_force
from hub.plans.models import PlanStep
from hub.services_ledger.models import KIND_CATEGORY, ServiceRecord, displaces
from hub.vocabulary import (
    Category,
    DisclosureOutcome,
    DisclosureTag,
    FundingSource,
    GoalStatus,
    PlanDomain,
    Purpose,
    ServiceKind,
    StepStatus,
    WithheldReason,
)

C = Category
# What a plan read may disclose: the plan itself and the clinical services' categories.
PLAN_CATEGORIES = (C.plan, C.health, C.treatment)


@dataclass(frozen=True)
class StepView:
    id: int
    goal_id: int
    step: str
    status: StepStatus
    on_date: date | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ServiceView:
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
    # LEAD money still paid after the client's turn on the public list came (non-displacement).
    displacement: bool


@dataclass(frozen=True)
class GoalView:
    id: int
    goal: str
    domain: PlanDomain | None
    status: GoalStatus
    services_text: str | None
    created_at: datetime
    updated_at: datetime | None
    part2: bool
    steps: tuple[StepView, ...]
    services: tuple[ServiceView, ...]


@dataclass(frozen=True)
class DisclosedPlan:
    """What one viewer may see of one client's plan for one purpose. `goals` is None where the
    plan is withheld (`withheld` says why); services of a withheld category are left out."""

    person_id: int
    purpose: Purpose
    policy_version: str
    log_seq: int
    identity_allowed: bool
    goals: tuple[GoalView, ...] | None
    services: tuple[ServiceView, ...]  # those tied to no goal shown
    withheld: dict[Category, WithheldReason]
    # Goals a Part 2 program recorded (or of the substance-use domain) that this viewer may not
    # see: said for every client alike (42 CFR 2.13(c)), never "no goals".
    part2_withheld: WithheldReason | None
    part2: bool

    @property
    def notice(self) -> str | None:
        return REDISCLOSURE_NOTICE if self.part2 else None


def viewer_actor(viewer: Viewer, actor: Actor) -> Actor:
    """The actor of a disclosure entry: the viewer the decision was made for, from where the
    caller's actor says (whatever user the caller passed)."""
    return Actor(
        user_id=viewer.user_id,
        role=viewer.role.value,
        agency_id=viewer.agency_id,
        request_id=actor.request_id,
        address=actor.address,
    )


def _goals(db: Session, person_id: int, decision: Decision) -> list[tuple[PlanGoal, bool]]:
    part2_allowed = decision.allows_part2(C.plan)
    rows = db.exec(
        select(PlanGoal, part2_origin(PlanGoal))
        .where(PlanGoal.person_id == person_id, allowed_rows(PlanGoal, part2_allowed))
        .order_by(col(PlanGoal.id))
    ).all()
    return [(goal, bool(labelled)) for goal, labelled in rows]


def _steps(db: Session, goal_ids: list[int]) -> dict[int, list[StepView]]:
    steps: dict[int, list[StepView]] = {}
    if not goal_ids:
        return steps
    for s in db.exec(
        select(PlanStep).where(col(PlanStep.goal_id).in_(goal_ids)).order_by(col(PlanStep.id))
    ).all():
        steps.setdefault(s.goal_id, []).append(
            StepView(s.id or 0, s.goal_id, s.step, s.status, s.on_date, s.updated_at)
        )
    return steps


def _service_filter(decision: Decision, goal_ids: list[int]) -> ColumnElement[bool]:
    """The services this decision may show: of an allowed category, Part 2 by source only where
    that category's Part 2 data may be shown, and tied to no goal or to a goal shown."""
    allowed_kinds = [k for k, c in KIND_CATEGORY.items() if decision.allows(c)]
    part2_kinds = [k for k, c in KIND_CATEGORY.items() if decision.allows_part2(c)]
    kind = col(ServiceRecord.kind)
    return and_(
        kind.in_(allowed_kinds),
        or_(kind.in_(part2_kinds), ~part2_origin(ServiceRecord)),
        or_(col(ServiceRecord.goal_id).is_(None), col(ServiceRecord.goal_id).in_(goal_ids)),
    )


def _services(db: Session, person_id: int, decision: Decision, goal_ids: list[int]) -> list[Any]:
    if not any(decision.allows(c) for c in PLAN_CATEGORIES):
        return []
    rows = db.exec(
        select(ServiceRecord, part2_origin(ServiceRecord))
        .where(ServiceRecord.person_id == person_id, _service_filter(decision, goal_ids))
        .order_by(col(ServiceRecord.provided_on), col(ServiceRecord.id))
    ).all()
    return [
        ServiceView(
            id=s.id or 0,
            goal_id=s.goal_id,
            kind=s.kind,
            category=KIND_CATEGORY[s.kind],
            provider=s.provider,
            provided_on=s.provided_on,
            units=s.units,
            cost_cents=s.cost_cents,
            funding_source=s.funding_source,
            waitlist=s.waitlist,
            waitlist_place=s.waitlist_place,
            turn_came_on=s.turn_came_on,
            part2=bool(labelled),
            displacement=displaces(s),
        )
        for s, labelled in rows
    ]


def disclose_plan(
    db: Session, viewer: Viewer, person_id: int, purpose: Purpose, actor: Actor
) -> DisclosedPlan:
    """Decides, reads only the goals, steps and services the decision allows, logs one
    disclosure entry and commits, in one transaction. Raises PersonNotFound."""
    with rollback_on_error(db):
        policy = policy_in_force(db)
        facts = gather_facts(db, viewer, person_id, utcnow())
        decision = decide(viewer, facts, purpose, policy)
        plan_allowed = decision.allows(C.plan)
        goals = _goals(db, person_id, decision) if plan_allowed else []
        goal_ids = [g.id for g, _ in goals if g.id is not None]
        steps = _steps(db, goal_ids)
        services = _services(db, person_id, decision, goal_ids)
        by_goal: dict[int | None, list[ServiceView]] = {}
        for service in services:
            by_goal.setdefault(service.goal_id, []).append(service)
        views = tuple(
            GoalView(
                id=g.id or 0,
                goal=g.goal,
                domain=g.domain,
                status=GoalStatus(g.status),
                services_text=g.services,
                created_at=g.created_at,
                updated_at=g.updated_at,
                part2=labelled,
                steps=tuple(steps.get(g.id or 0, ())),
                services=tuple(by_goal.get(g.id, ())),
            )
            for g, labelled in goals
        )
        part2 = any(g.part2 for g in views) or any(
            s.part2 or s.category == C.treatment for s in services
        )
        shown = {C.plan} if plan_allowed else set()
        shown |= {service.category for service in services}
        shown_categories = [c.value for c in Category if c in shown]
        if part2 and C.treatment.value not in shown_categories:
            # Data a Part 2 program recorded is treatment data wherever it sits: the entry
            # lists treatment so the charging binding and the accountings find it.
            shown_categories.append(C.treatment.value)
        withheld = {c: decision.withheld[c] for c in PLAN_CATEGORIES if not decision.allows(c)}
        part2_withheld = (
            decision.part2_reason(C.plan)
            if plan_allowed and not decision.allows_part2(C.plan)
            else None
        )
        entry = append_and_commit(
            db,
            viewer_actor(viewer, actor),
            Event(
                kind="disclosure",
                tag=DisclosureTag.client_plan_read.value,
                outcome=(
                    DisclosureOutcome.disclosed
                    if plan_allowed or services
                    else DisclosureOutcome.withheld
                ).value,
                purpose=purpose.value,
                person_id=person_id,
                categories=shown_categories if (plan_allowed or services) else [],
                policy_version=decision.policy_version,
                detail={
                    "basis": {
                        c.value: b for c, b in decision.disclosed.items() if c in PLAN_CATEGORIES
                    },
                    "withheld": {c.value: r.value for c, r in withheld.items()},
                    "plan_goals": goal_ids,
                    "plan_steps": sorted(s.id for v in steps.values() for s in v),
                    "services": [s.id for s in services],
                    "part2": part2,
                    "part2_origin": [C.plan.value] if any(g.part2 for g in views) else [],
                },
            ),
        )
    return DisclosedPlan(
        person_id=person_id,
        purpose=purpose,
        policy_version=decision.policy_version,
        log_seq=entry.seq,
        identity_allowed=decision.allows(C.identity),
        goals=views if plan_allowed else None,
        services=tuple(by_goal.get(None, ())),
        withheld=withheld,
        part2_withheld=part2_withheld,
        part2=part2,
    )
