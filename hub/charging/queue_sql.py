"""The prosecutor's queue cut in the database: its order, filters, page, total and counts per
state in SQL (ORDER BY ... LIMIT, GROUP BY), so that only the page's rows reach Python.

The same queue as hub.charging.queue.cut_queue over queue_order.queue_keys, which stays for a
policy that hub.disclosure.grants_sql cannot state: at 100 times the demo, building 3,552 keys
in Python (each datetime parsed and put in the site's zone) took most of the page's time.
The arrest date and the day intake was completed are the site's local days
(hub.site_clock.SiteClock); the policy's answer on each person's intake clock is the policy
layer's SQL condition, so a withheld clock is ordered as ripe, filtered and counted as "not
shared", never by its real state.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Date, String, and_, case, cast, func, null, or_, type_coerce
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from hub.accounts.sessions import Viewer
from hub.charging.checks import require_prosecutor
from hub.charging.models import ChargingMatter, MatterDeputy
from hub.charging.queue import (
    OfficeFacts,
    QueueCut,
    QueueFilter,
    QueueOutcome,
    QueueSort,
    QueueState,
    cut_queue,
)
from hub.charging.queue_order import QueueKey, queue_keys
from hub.disclosure.grants_sql import PersonClause, clause_in_force
from hub.disclosure.identities import allowed_persons
from hub.referrals.models import Referral
from hub.referrals.rules import SiteRules
from hub.settings import get_settings
from hub.site_clock import SiteClock
from hub.vocabulary import Category, DeadlineStatus, DecisionOutcome, Purpose, Relationship

# The default order's place of each state: missed first, then the ripe ones (met, a new
# arrest, and a clock the policy withholds, placed as if met so the order gives nothing away),
# then the running clocks (queue_order._URGENCY).
_PLACE = {QueueState.missed: 0, QueueState.near: 2, QueueState.pending: 3}


def _clock(db: Session, office_id: int, rules: SiteRules, now: datetime) -> SiteClock:
    """The site's clock from the office's first arrest (a completed intake comes later) to
    now, in whole days, so that its offsets are worked out once a day (site_clock caches)."""
    first = db.execute(
        core_select(func.min(col(ChargingMatter.arrested_at))).where(
            col(ChargingMatter.prosecuting_agency_id) == office_id
        )
    ).scalar_one()
    since = min(first or now, now) - timedelta(days=1)
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    until = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    return SiteClock(rules.tz, db.get_bind().dialect.name, since, until)


OFFICE_MATTER = frozenset({Relationship.office_matter})
_RUNNING = (DeadlineStatus.missed, DeadlineStatus.near, DeadlineStatus.pending)


def _clocks_asked(wanted: QueueFilter, count_states: bool) -> list[str]:
    """The deadline states whose rows need the policy's answer on the clock: all for the
    counts or "not shared", the one state filtered for, or where the default order tells a
    shown clock from a withheld one (a met clock is ripe either way)."""
    if count_states or wanted.state == QueueState.not_shared:
        return [s.value for s in DeadlineStatus]
    if wanted.state is not None:
        return [] if wanted.state == QueueState.new_arrest else [wanted.state.value]
    return [s.value for s in _RUNNING] if wanted.sort == QueueSort.urgency else []


def _deadline_status(clock: SiteClock, today: date) -> ColumnElement[Any]:
    """hub.referrals.intake_clock.clock_status in SQL; NULL for a new arrest (no referral)."""
    near = today + timedelta(days=get_settings().deadline_near_days)
    screened, done = col(Referral.screening_done_at), col(Referral.intake_done_at)
    due = col(Referral.intake_due_on)
    finished = case((screened > done, screened), else_=done)
    return case(
        (col(Referral.id).is_(None), null()),
        (
            and_(screened.is_not(None), done.is_not(None)),
            case(
                (type_coerce(clock.day(finished), Date) <= due, DeadlineStatus.met.value),
                else_=DeadlineStatus.missed.value,
            ),
        ),
        (due < today, DeadlineStatus.missed.value),
        (due <= near, DeadlineStatus.near.value),
        else_=DeadlineStatus.pending.value,
    )


def _deputy_filter(wanted: QueueFilter) -> list[ColumnElement[bool]]:
    # Uncorrelated: read once, not per matter (correlated, SQLite walked the deputy's every
    # matter for each of the office's: 1.5 s at 100 times the demo).
    current = core_select(col(MatterDeputy.matter_id)).where(col(MatterDeputy.ended_at).is_(None))
    found: list[ColumnElement[bool]] = []
    if wanted.deputy_id is not None:
        mine = current.where(col(MatterDeputy.deputy_id) == wanted.deputy_id)
        found.append(col(ChargingMatter.id).in_(mine))
    if wanted.unassigned:
        found.append(col(ChargingMatter.id).not_in(current))
    return found


def _awaiting(wanted: QueueFilter) -> list[ColumnElement[bool]]:
    """A matter of the queue, by its standing outcome (kept on the matter, migration
    0011que): none yet, or more information asked; with the outcome filter, the one asked.
    queue_order.awaiting_decision says the same from the decisions themselves."""
    standing = col(ChargingMatter.standing_outcome)
    asked = standing == DecisionOutcome.more_information
    # A referral its officer withdrew as made in error leaves the queue with it.
    found = [col(Referral.withdrawn_at).is_(None)]
    if wanted.outcome == QueueOutcome.more_information:
        return [asked, *found]
    if wanted.outcome == QueueOutcome.awaiting:
        return [standing.is_(None), *found]
    return [or_(standing.is_(None), asked), *found]


def office_queue(
    db: Session,
    prosecutor: Viewer,
    today: date,
    now: datetime,
    wanted: QueueFilter,
    offset: int,
    size: int,
    clock_shown: PersonClause | None,
    *,
    rules: SiteRules,
    count_states: bool = False,
) -> QueueCut:
    """Rows offset..offset+size of the office's queue with these filters, how many match, and
    with `count_states` the count of each state, as cut_queue gives them (with a `size` of 0,
    the counts and total alone). `clock_shown` is the policy's SQL condition for the intake
    clock (hub.disclosure.grants_sql.clause_in_force); it may be None only where nothing asks
    for the state (no state filter, no counts, a sort other than urgency)."""
    require_prosecutor(prosecutor)
    office_id = prosecutor.agency_id
    needs_clock = count_states or wanted.state is not None or wanted.sort == QueueSort.urgency
    if needs_clock and clock_shown is None:
        raise ValueError("the queue's state needs the policy's answer on the clock")
    clock = _clock(db, office_id, rules, now)
    status = _deadline_status(clock, today)
    asked = _clocks_asked(wanted, count_states)
    # Typed: PostgreSQL reads a bare NULL as text.
    shown: ColumnElement[Any] = cast(null(), Boolean)
    if clock_shown is not None and asked:
        # Every row is a matter of the viewer's office: the policy's office_matter holds.
        shown = case(
            (status.in_(asked), clock_shown(col(ChargingMatter.person_id), OFFICE_MATTER)),
            else_=null(),
        )
    # Read once per row into a materialized table: the order, the filter and the counts all
    # ask the state, and each mention of the policy's condition would be evaluated again.
    rows = (
        core_select(
            col(ChargingMatter.id).label("matter_id"),
            col(ChargingMatter.person_id).label("person_id"),
            type_coerce(clock.day(col(ChargingMatter.arrested_at)), Date).label("arrested_on"),
            col(Referral.intake_due_on).label("due_on"),
            col(Referral.referred_at).label("referred_at"),
            type_coerce(status, String).label("status"),
            type_coerce(shown, Boolean).label("shown"),
            col(ChargingMatter.standing_outcome).label("standing"),
        )
        .join_from(
            ChargingMatter, Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True
        )
        .where(
            col(ChargingMatter.prosecuting_agency_id) == office_id,
            *_awaiting(wanted),
            *_deputy_filter(wanted),
        )
        .cte("queue_rows")
        .prefix_with("MATERIALIZED")
    )
    c = rows.c
    # A clock not asked reads "not asked": no filter or count wants its state, and the order
    # places it as ripe (only a met clock goes unasked in the default order).
    state = case(
        (c.status.is_(None), QueueState.new_arrest.value),
        (c.shown.is_(None), "not asked"),
        (~c.shown, QueueState.not_shared.value),
        else_=c.status,
    )
    counts: dict[QueueState, int] = {}
    if count_states:
        counts = {s: 0 for s in QueueState}
        found = db.execute(core_select(state, func.count()).select_from(rows).group_by(state))
        counts.update({QueueState(s): n for s, n in found.all()})
    if count_states and size == 0:  # the counts alone (htmx asks for them apart)
        total = counts[wanted.state] if wanted.state else sum(counts.values())
        return QueueCut(keys=[], total=total, counts=counts)
    where = [] if wanted.state is None else [state == wanted.state.value]
    if wanted.sort == QueueSort.urgency:
        place = case(*((state == s.value, p) for s, p in _PLACE.items()), else_=1)
        order = [place, c.arrested_on, c.matter_id]
    elif wanted.sort == QueueSort.arrest:
        order = [c.arrested_on, c.matter_id]
    else:
        order = [case((c.due_on.is_(None), 1), else_=0), c.due_on, c.matter_id]
    matching = core_select(func.count()).select_from(rows).where(*where).correlate(None)
    page = db.execute(
        core_select(
            c.matter_id,
            c.person_id,
            c.arrested_on,
            c.due_on,
            c.referred_at,
            c.status,
            c.shown,
            c.standing,
            # Counted apart, once: a window count (COUNT(*) OVER ()) made SQLite carry every
            # row through the window before sorting, a fifth of the query (bench_queue.py).
            matching.scalar_subquery().label("total"),
        )
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(size)
    ).all()
    if page or offset == 0:
        total = page[0].total if page else 0
    else:  # past the last page: the total alone
        total = db.execute(matching).scalar_one()
    keys = [
        QueueKey(
            matter_id=row.matter_id,
            person_id=row.person_id,
            days_since_arrest=(today - row.arrested_on).days,
            deadline_status=None if row.status is None else DeadlineStatus(row.status),
            referred_at=row.referred_at,
            intake_due_on=row.due_on,
            clock_shown=None if row.shown is None else bool(row.shown),
        )
        for row in page
    ]
    more_asked = {r.matter_id for r in page if r.standing == DecisionOutcome.more_information}
    return QueueCut(
        keys=OfficeFacts(db, office_id).keys_of(keys, more_asked), total=total, counts=counts
    )


def cut_office_queue(
    db: Session,
    prosecutor: Viewer,
    now: datetime,
    wanted: QueueFilter,
    offset: int,
    size: int,
    *,
    rules: SiteRules,
    count_states: bool = False,
) -> QueueCut:
    """The office's queue as the page and the API cut it (office_queue's answer), with the
    policy's answer on each person's intake clock (engagement: a 42 CFR 2.35 consent or a court
    order) as hub.disclosure.grants_sql's condition; where the policy in force needs more than
    SQL can state, the Python cut, deciding as few persons as the page needs
    (queue_order.queue_page_keys). Discloses and logs nothing: the caller discloses the page."""
    today = now.astimezone(rules.tz).date()
    needed = count_states or wanted.state is not None or wanted.sort == QueueSort.urgency
    purpose, engagement = Purpose.charging_decision, Category.engagement
    clause = clause_in_force(db, prosecutor, purpose, engagement) if needed else None
    if clause is not None or not needed:
        return office_queue(
            db,
            prosecutor,
            today,
            now,
            wanted,
            offset,
            size,
            clause,
            rules=rules,
            count_states=count_states,
        )
    return cut_queue(
        queue_keys(db, prosecutor, today, rules=rules),
        wanted,
        offset,
        size,
        lambda persons: allowed_persons(db, prosecutor, persons, purpose, engagement),
        OfficeFacts(db, prosecutor.agency_id),
        count_states=count_states,
    )
