"""The prosecutor's queue in its order: which matters of the office await a decision (none yet,
or more information asked), the light keys that order them, the page of keys the policy places
and the full items of a page."""

import heapq
import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, null
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.charging.checks import require_prosecutor
from hub.charging.models import ChargingDecision, ChargingMatter
from hub.db import ident
from hub.referrals.intake_clock import clock_status, deadline_status
from hub.referrals.models import Referral
from hub.referrals.officer_feedback import current_decisions
from hub.referrals.rules import SiteRules, current_rules
from hub.vocabulary import DeadlineStatus, DecisionOutcome


@dataclass(frozen=True)
class QueueItem:
    """A matter awaiting a decision: ids and the matter's own fields. `kind` is "referral" for
    an arrest referral (with its intake clock) or "new_arrest" for a client's new arrest."""

    matter_id: int
    person_id: int
    referral_id: int | None
    kind: str
    offense_tracking_number: str
    offenses: list[str]
    arrested_at: datetime
    days_since_arrest: int
    court_date: date | None
    referred_at: datetime | None
    intake_due_on: date | None
    deadline_status: DeadlineStatus | None
    standing_outcome: DecisionOutcome | None  # None, or more_information asked before


# Ripe first: a missed deadline or a met one (or a client's new arrest) waits on the prosecutor;
# a running clock waits on the client.
_URGENCY: dict[DeadlineStatus | None, int] = {
    DeadlineStatus.missed: 0,
    DeadlineStatus.met: 1,
    None: 1,
    DeadlineStatus.near: 2,
    DeadlineStatus.pending: 3,
}


@dataclass(frozen=True)
class QueueKey:
    """What orders a matter in the queue, and nothing to show: its page is chosen from these."""

    matter_id: int
    person_id: int
    days_since_arrest: int
    deadline_status: DeadlineStatus | None
    # Referral data read by the same query, so that a filtered queue needs no second one.
    referred_at: datetime | None = None
    intake_due_on: date | None = None
    # The policy's answer on the intake clock (engagement) where the read was given it in SQL
    # (hub.disclosure.grants_sql); None where it was not asked.
    clock_shown: bool | None = None


def urgency(status: DeadlineStatus | None) -> int:
    return _URGENCY[status]


# Made once: a new alias on every call misses SQLAlchemy's compiled-statement cache, and
# compiling the queue's query again cost 15 ms a page (bench/bench_queue.py).
_STANDING = aliased(ChargingDecision)
_SUPERSEDING = aliased(ChargingDecision)


def _decided() -> Any:
    """A matter whose standing decision (one no other supersedes) is other than asking for
    more information: it has left the queue."""
    standing, superseding = _STANDING, _SUPERSEDING
    return (
        select(standing.id)
        .where(
            standing.matter_id == ChargingMatter.id,
            standing.outcome != DecisionOutcome.more_information,
            ~select(superseding.id).where(superseding.supersedes_id == standing.id).exists(),
        )
        .exists()
    )


def awaiting_decision() -> Any:
    """A matter of the queue (with its referral outer-joined): no standing decision other than
    asking for more information, and not withdrawn. Read from the decisions; the SQL cut reads
    the standing outcome kept on the matter instead (queue_sql._awaiting)."""
    # A referral its officer withdrew as made in error leaves the queue with it.
    return and_(~_decided(), col(Referral.withdrawn_at).is_(None))


def queue_keys(
    db: Session,
    prosecutor: Viewer,
    today: date,
    *,
    rules: SiteRules | None = None,
    clock_shown: Callable[[Any], Any] | None = None,
) -> list[QueueKey]:
    """The order keys of every matter awaiting the office's decision, in one query of the
    columns that order them (no matter or referral objects): the queue pages over these and
    reads the full items of one page only. `clock_shown(person_id column)`, the policy layer's
    SQL condition for the intake clock (hub.disclosure.grants_sql.allowed_clause), is read by
    the same query into each key's `clock_shown`."""
    require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    # Asked only of the matters with a clock (a new arrest has none).
    shown = (
        case(
            (col(Referral.intake_due_on).is_(None), null()),
            else_=clock_shown(col(ChargingMatter.person_id)),
        )
        if clock_shown is not None
        else null()
    )
    rows = db.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
            ChargingMatter.id,
            ChargingMatter.person_id,
            ChargingMatter.arrested_at,
            Referral.intake_due_on,
            Referral.screening_done_at,
            Referral.intake_done_at,
            Referral.referred_at,
            shown,
        )
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id, awaiting_decision())
        .order_by(col(ChargingMatter.arrested_at), col(ChargingMatter.id))
    ).all()
    return [
        QueueKey(
            matter_id=matter_id,
            person_id=person_id,
            days_since_arrest=(today - arrested_at.astimezone(rules.tz).date()).days,
            deadline_status=(
                clock_status(due, screened, done, today, tz=rules.tz) if due is not None else None
            ),
            referred_at=referred_at,
            intake_due_on=due,
            clock_shown=None if clock is None else bool(clock),  # None: no clock or not asked
        )
        for matter_id, person_id, arrested_at, due, screened, done, referred_at, clock in rows
    ]


# Persons decided at a time while the queue's order is resolved: one gather of facts each.
QUEUE_DECIDE_CHUNK = 200


def queue_page_keys(
    keys: Collection[QueueKey],
    offset: int,
    size: int,
    clock_shown: Callable[[Collection[int]], Collection[int]],
) -> list[QueueKey]:
    """The keys of rows offset..offset+size of the queue in its order: by urgency (a row whose
    intake clock the policy withholds is ordered as if its deadline were met, so the order
    gives nothing away), then the oldest arrest, then the matter. `clock_shown(person_ids)` is
    the policy's answer (hub.disclosure.identities.allowed_persons) for those persons.

    Only as many persons are decided as the page needs, not the whole queue: a row's place is
    at least its lower bound (its own urgency or ripe, whichever comes first), so the rows are
    walked in order of that bound and a row is final once no undecided row can come before
    it. The total is len(keys) whatever the policy says (it only moves rows), so the pager
    stays exact without deciding everyone. A row whose own urgency is ripe needs no decision.
    Every answer is still the policy layer's: the clock is engagement, which the policy grants
    a prosecutor only on a 42 CFR 2.35 consent or a court order (and a released policy may say
    otherwise), so no shortcut from relationships alone could answer it.
    """
    ripe = _URGENCY[None]

    def bound(k: QueueKey) -> tuple[int, int, int]:
        return (min(_URGENCY[k.deadline_status], ripe), -k.days_since_arrest, k.matter_id)

    walk = sorted(keys, key=bound)
    decided: dict[int, bool] = {}
    placed: list[tuple[tuple[int, int, int], QueueKey]] = []  # a heap of final places
    rows: list[QueueKey] = []
    index = 0
    while len(rows) < offset + size:
        if placed and (index == len(walk) or placed[0][0] <= bound(walk[index])):
            rows.append(heapq.heappop(placed)[1])
            continue
        if index == len(walk):
            break
        key = walk[index]
        index += 1
        urgency_ = _URGENCY[key.deadline_status]
        if urgency_ != ripe and key.person_id not in decided:
            ahead: dict[int, None] = {}  # the next undecided persons, in walking order
            for later in itertools.islice(walk, index - 1, None):
                if len(ahead) == QUEUE_DECIDE_CHUNK:
                    break
                if _URGENCY[later.deadline_status] != ripe and later.person_id not in decided:
                    ahead[later.person_id] = None
            shown = clock_shown(list(ahead))
            decided.update((pid, pid in shown) for pid in ahead)
        place = urgency_ if urgency_ == ripe or decided[key.person_id] else ripe
        heapq.heappush(placed, ((place, -key.days_since_arrest, key.matter_id), key))
    return rows[offset:]


def prosecutor_queue(
    db: Session,
    prosecutor: Viewer,
    today: date,
    *,
    rules: SiteRules | None = None,
    matter_ids: Collection[int] | None = None,
) -> list[QueueItem]:
    """Matters of the prosecutor's office awaiting a decision (none yet, or more information
    asked), most urgent first: by deadline status, then the oldest arrest. `matter_ids`: only
    these (a page of the queue)."""
    require_prosecutor(prosecutor)
    rules = rules or current_rules(db)
    query = (
        select(ChargingMatter, Referral)
        .join(Referral, col(Referral.id) == ChargingMatter.referral_id, isouter=True)
        .where(ChargingMatter.prosecuting_agency_id == prosecutor.agency_id)
    )
    if matter_ids is not None:
        query = query.where(col(ChargingMatter.id).in_(sorted(matter_ids)))
    rows = list(db.exec(query))
    standing = current_decisions(db, [ident(m.id) for m, _ in rows])
    items = []
    for matter, referral in rows:
        decision = standing.get(ident(matter.id))
        if decision is not None and decision.outcome != DecisionOutcome.more_information:
            continue
        status = deadline_status(referral, today, tz=rules.tz) if referral else None
        items.append(
            QueueItem(
                matter_id=ident(matter.id),
                person_id=matter.person_id,
                referral_id=matter.referral_id,
                kind="referral" if referral else "new_arrest",
                offense_tracking_number=matter.offense_tracking_number,
                offenses=list(matter.offenses),
                arrested_at=matter.arrested_at,
                days_since_arrest=(today - matter.arrested_at.astimezone(rules.tz).date()).days,
                court_date=matter.court_date,
                referred_at=referral.referred_at if referral else None,
                intake_due_on=referral.intake_due_on if referral else None,
                deadline_status=status,
                standing_outcome=decision.outcome if decision else None,
            )
        )
    return sorted(
        items, key=lambda i: (_URGENCY[i.deadline_status], -i.days_since_arrest, i.matter_id)
    )
