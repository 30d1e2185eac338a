"""A case manager's caseload ("My clients"), and a supervisor's view of their agency's, per
case manager, read through the policy: each row is decided for case management like a record,
only the allowed categories are read, and the page is one logged disclosure naming every
client on it.

    page = disclose_caseload(db, viewer, actor, CaseloadQuery(sort=CaseloadSort.last_contact))

Paged by key: the next page starts after a client's record number (never a name or a date in
the URL), in the page's order."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.clients.models import ClientAssignment, Person, PlanGoal
from hub.consents.models import Consent
from hub.consents.services import CONSENT_TERMS, is_active
from hub.db import rollback_on_error, utcnow
from hub.disclosure.origin import part2_origin
from hub.disclosure.policy import Decision, decide, gather_facts_many
from hub.disclosure.releases import policy_in_force
from hub.referrals.models import Referral
from hub.vocabulary import (
    ActionItemStatus,
    AssignmentKind,
    CaseloadSort,
    Category,
    DisclosureOutcome,
    DisclosureTag,
    ProgramStatus,
    Purpose,
    Role,
)
from hub.workgroup.models import ActionItem

PAGE_SIZE = 25
# Consent expiry is warned this many days ahead (issue 14, item 7).
CONSENT_WARNING_DAYS = 30
PURPOSE = Purpose.case_management


class CaseloadRefused(PermissionError):
    """A supervisor asked for a case manager outside their agency (logged; answer 404)."""


@dataclass(frozen=True)
class CaseloadQuery:
    sort: str = CaseloadSort.last_contact
    status: ProgramStatus | None = None
    case_manager_id: int | None = None  # a supervisor's choice of one case manager
    after: int | None = None  # the record number the page starts after


@dataclass(frozen=True)
class CaseloadRow:
    """One client, as the policy lets this viewer see them: None where withheld."""

    person_id: int
    case_manager_id: int
    name: str | None
    program_status: ProgramStatus | None
    last_contact_on: date | None
    days_since_contact: int | None
    intake_due_on: date | None
    intake_done: bool | None
    next_step: str | None  # the newest open plan goal, in the client's words
    open_action_items: int | None
    consent_expires_on: date | None  # an active consent ending within 30 days


@dataclass(frozen=True)
class CaseloadView:
    rows: tuple[CaseloadRow, ...]
    case_managers: dict[int, str]  # staff of the view, for the supervisor's per-person view
    next_after: int | None
    log_seq: int
    total: int


@dataclass
class _Page:
    ids: list[int]
    case_manager_of: dict[int, int]
    total: int
    next_after: int | None
    people: dict[int, Any]  # the page's rows: name, status, last contact (read once)


def _order_key(sort: str, row: Any) -> tuple[Any, ...]:
    if sort == CaseloadSort.name:
        return (row.last_name.lower(), row.first_name.lower(), row.id)
    if sort == CaseloadSort.status:
        return (row.program_status.value, row.id)
    # Never seen first, then the longest unseen.
    return (row.last_contact_on is not None, row.last_contact_on or date.min, row.id)


def _caseload_page(db: Session, viewer: Viewer, query: CaseloadQuery, limit: int) -> _Page:
    """Which clients, in order, and which of them are on this page: record numbers only."""
    mine = col(ClientAssignment.user_id) == viewer.user_id
    if viewer.role == Role.case_manager_supervisor:
        mine = col(User.agency_id) == viewer.agency_id
        if query.case_manager_id is not None:
            mine = and_(mine, col(ClientAssignment.user_id) == query.case_manager_id)
    statement = (
        sa_select(
            col(Person.id),
            col(Person.first_name),
            col(Person.last_name),
            col(Person.program_status),
            col(Person.last_contact_on),
            col(ClientAssignment.user_id),
        )
        .join(ClientAssignment, col(ClientAssignment.person_id) == Person.id)
        .join(User, col(User.id) == ClientAssignment.user_id)
        .where(
            mine,
            col(ClientAssignment.kind) == AssignmentKind.caseload,
            col(ClientAssignment.ended_at).is_(None),
        )
    )
    if query.status is not None:
        statement = statement.where(col(Person.program_status) == query.status)
    rows = sorted(db.execute(statement).all(), key=lambda r: _order_key(query.sort, r))
    ids = [r.id for r in rows]
    start = ids.index(query.after) + 1 if query.after in ids else 0
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    return _Page(
        ids=[r.id for r in page],
        case_manager_of={r.id: r.user_id for r in page},
        total=len(rows),
        next_after=page[-1].id if page and more else None,
        people={r.id: r for r in page},
    )


def disclose_caseload(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    query: CaseloadQuery,
    *,
    limit: int = PAGE_SIZE,
    today: date | None = None,
) -> CaseloadView:
    """Decides each client on the page for case management, reads only what is allowed, logs
    one disclosure entry (`disclosure:caseload:read`) and commits."""
    today = today or utcnow().date()
    with rollback_on_error(db):
        staff = _case_managers(db, viewer)
        if query.case_manager_id is not None and query.case_manager_id not in staff:
            append_refusal(
                db, actor, {"action": "clients:caseload:read", "user_id": query.case_manager_id}
            )
            raise CaseloadRefused("not a case manager of your agency")
        page = _caseload_page(db, viewer, query, limit)
        now = utcnow()
        policy = policy_in_force(db)
        facts = gather_facts_many(db, viewer, page.ids, now)
        decisions = {pid: decide(viewer, facts[pid], PURPOSE, policy) for pid in page.ids}
        rows = _rows(db, page, decisions, today)
        shown: set[Category] = set()
        for row in rows:
            decision = decisions[row.person_id]
            shown |= {c for c in _ROW_CATEGORIES if decision.allows(c)}
        entry = append_and_commit(
            db,
            actor,
            Event(
                kind="disclosure",
                tag=DisclosureTag.caseload_read.value,
                outcome=(DisclosureOutcome.disclosed if rows else DisclosureOutcome.withheld).value,
                purpose=PURPOSE.value,
                categories=sorted(c.value for c in shown),
                policy_version=policy.version,
                detail={
                    "person_ids": [r.person_id for r in rows],
                    "basis": {
                        str(pid): dict(sorted((c.value, b) for c, b in d.disclosed.items()))
                        for pid, d in decisions.items()
                        if d.disclosed
                    },
                    "consents_expiring": sorted(
                        r.person_id for r in rows if r.consent_expires_on is not None
                    ),
                },
            ),
        )
    return CaseloadView(
        rows=tuple(rows),
        case_managers=staff,
        next_after=page.next_after,
        log_seq=entry.seq,
        total=page.total,
    )


_ROW_CATEGORIES = (Category.identity, Category.engagement, Category.plan)


def _case_managers(db: Session, viewer: Viewer) -> dict[int, str]:
    """The case managers whose caseloads this viewer reads: themselves, or a supervisor's
    agency's (names of staff, not client data)."""
    if viewer.role != Role.case_manager_supervisor:
        return {viewer.user_id: viewer.display_name}
    staff = db.exec(
        select(User.id, User.display_name).where(
            User.agency_id == viewer.agency_id, User.role == Role.case_manager
        )
    ).all()
    return {uid: name for uid, name in staff if uid is not None}


def _rows(
    db: Session, page: _Page, decisions: dict[int, Decision], today: date
) -> list[CaseloadRow]:
    ids = page.ids
    if not ids:
        return []
    people = page.people
    intake = _intake(db, ids)
    goals = _next_steps(db, ids, decisions)
    items = _open_action_items(db, ids, decisions)
    consents = _consents_expiring(db, ids, today)
    rows = []
    for pid in ids:
        d, p = decisions[pid], people[pid]
        identity, engagement, plan = (d.allows(c) for c in _ROW_CATEGORIES)
        last = p.last_contact_on if engagement else None
        due, done = intake.get(pid, (None, None)) if engagement else (None, None)
        rows.append(
            CaseloadRow(
                person_id=pid,
                case_manager_id=page.case_manager_of[pid],
                name=f"{p.first_name} {p.last_name}" if identity else None,
                program_status=p.program_status if engagement else None,
                last_contact_on=last,
                days_since_contact=(today - last).days if last else None,
                intake_due_on=due,
                intake_done=done,
                next_step=goals.get(pid) if plan else None,
                open_action_items=items.get(pid, 0) if engagement else None,
                # Consents are the program's own record of the client's choices (2.31).
                consent_expires_on=consents.get(pid) if identity else None,
            )
        )
    return rows


def _intake(db: Session, ids: Sequence[int]) -> dict[int, tuple[date, bool]]:
    """The newest referral's intake clock per client (engagement: attendance)."""
    found: dict[int, tuple[date, bool]] = {}
    for pid, due, done in db.execute(
        sa_select(
            col(Referral.person_id), col(Referral.intake_due_on), col(Referral.intake_done_at)
        )
        .where(col(Referral.person_id).in_(ids))
        .order_by(col(Referral.referred_at))
    ).all():
        found[pid] = (due, done is not None)
    return found


def _next_steps(db: Session, ids: Sequence[int], decisions: dict[int, Decision]) -> dict[int, str]:
    """The newest open plan goal each may see (Part 2 goals only where the decision allows)."""
    readable = [pid for pid in ids if decisions[pid].allows(Category.plan)]
    with_part2 = {pid for pid in readable if decisions[pid].allows_part2(Category.plan)}
    if not readable:
        return {}
    steps: dict[int, str] = {}
    for pid, goal, part2 in db.execute(
        sa_select(col(PlanGoal.person_id), col(PlanGoal.goal), part2_origin(PlanGoal))
        .where(col(PlanGoal.person_id).in_(readable), col(PlanGoal.status) == "open")
        .order_by(col(PlanGoal.created_at))
    ).all():
        if not part2 or pid in with_part2:
            steps[pid] = goal
    return steps


def _open_action_items(
    db: Session, ids: Sequence[int], decisions: dict[int, Decision]
) -> dict[int, int]:
    """How many open work-group action items each client has, of categories this viewer may
    see (a count: no description is read)."""
    counts: dict[int, int] = defaultdict(int)
    for pid, category, part2 in db.execute(
        sa_select(
            col(ActionItem.person_id), col(ActionItem.category), part2_origin(ActionItem)
        ).where(col(ActionItem.person_id).in_(ids), col(ActionItem.status) == ActionItemStatus.open)
    ).all():
        d = decisions[pid]
        category = category or Category.engagement
        if d.allows(category) and (not part2 or d.allows_part2(category)):
            counts[pid] += 1
    return counts


def _consents_expiring(db: Session, ids: Sequence[int], today: date) -> dict[int, date]:
    """The soonest expiry, within CONSENT_WARNING_DAYS, of each client's active consents."""
    horizon = today + timedelta(days=CONSENT_WARNING_DAYS)
    now = utcnow()
    soonest: dict[int, date] = {}
    # Rows of the columns is_active reads, as hub.disclosure.policy does: no ORM objects.
    for consent in db.execute(
        sa_select(*(getattr(Consent, name) for name in CONSENT_TERMS)).where(
            col(Consent.person_id).in_(ids),
            col(Consent.revoked_at).is_(None),
            col(Consent.expires_on) <= horizon,
        )
    ).all():
        if consent.expires_on is not None and is_active(consent, now):
            current = soonest.get(consent.person_id)
            if current is None or consent.expires_on < current:
                soonest[consent.person_id] = consent.expires_on
    return soonest
