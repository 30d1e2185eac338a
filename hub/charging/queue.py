"""The prosecutor's queue with filters (deputy, deadline state, outcome), a sort and the count
of each state: which matters of the office await a decision and in what order. Ids and order
keys only; the page discloses its own rows through the policy layer (hub.charging.queue_routes).

A deadline state is engagement (whether intake was done: 42 CFR 2.35), so a matter whose clock
the policy withholds from this prosecutor is counted and filtered as "not shared", never by its
real state, and the default order places it as if its deadline were met
(queue_order.queue_page_keys). The intake due date is referral data: it follows from the referral
date alone (hub.referrals.opening.intake_due_on).
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.charging.models import ChargingDecision, ChargingMatter, MatterDeputy
from hub.charging.queue_order import QueueKey, queue_page_keys
from hub.referrals.opening import intake_due_on
from hub.referrals.rules import SiteRules
from hub.vocabulary import DecisionOutcome


class QueueState(StrEnum):
    """A matter's place in the queue, as this prosecutor may know it."""

    missed = "missed"
    near = "near"
    pending = "pending"
    met = "met"
    new_arrest = "new_arrest"  # a client's new arrest: no intake clock
    not_shared = "not_shared"  # the clock is engagement: no 42 CFR 2.35 consent


class QueueOutcome(StrEnum):
    awaiting = "awaiting"  # no decision yet
    more_information = "more_information"  # more information asked before


class QueueSort(StrEnum):
    urgency = "urgency"  # missed, then ripe, then running clocks; oldest arrest first
    arrest = "arrest"  # oldest arrest first
    due = "due"  # soonest intake due date first; new arrests last


@dataclass(frozen=True)
class QueueFilter:
    deputy_id: int | None = None
    unassigned: bool = False
    state: QueueState | None = None
    outcome: QueueOutcome | None = None
    sort: QueueSort = QueueSort.urgency


@dataclass(frozen=True)
class OfficeKey:
    """A queue key with what the filters need: the deputy, and whether more information was
    asked (the referral's dates come with the key)."""

    key: QueueKey
    deputy_id: int | None
    more_information: bool

    @property
    def referred_at(self) -> datetime | None:
        return self.key.referred_at

    @property
    def due_on(self) -> date | None:
        return self.key.intake_due_on

    def due_from_referral(self, rules: SiteRules) -> bool:
        """Whether the due date follows from the referral date alone (referral data): shown
        with the referral. One moved since (say, by the site's rules) is the clock's:
        engagement. Asked of a page's rows only."""
        referred, due = self.key.referred_at, self.key.intake_due_on
        return referred is not None and due == intake_due_on(referred, rules)


@dataclass(frozen=True)
class QueueCut:
    """One page of the filtered queue (its keys, in order), how many match the filters, and
    how many matters of the office's queue are in each state."""

    keys: list[OfficeKey]
    total: int
    counts: dict[QueueState, int]


# Made once, so that the query's compiled form is cached (see queue_order._decided).
_STANDING = aliased(ChargingDecision)
_SUPERSEDING = aliased(ChargingDecision)


def _more_information_asked(office_id: int) -> object:
    """Matters of the office with a standing request for more information (the decided ones
    have left the queue already)."""
    standing, superseding = _STANDING, _SUPERSEDING
    return (
        select(standing.matter_id)
        .join(ChargingMatter, col(ChargingMatter.id) == standing.matter_id)
        .where(
            ChargingMatter.prosecuting_agency_id == office_id,
            standing.outcome == DecisionOutcome.more_information,
            ~select(superseding.id).where(superseding.supersedes_id == standing.id).exists(),
        )
    )


@dataclass
class OfficeFacts:
    """The deputies and standing requests for more information of the office's queue, read
    office-wide only when a filter needs them for every matter (a deputy or an outcome
    filter), otherwise for the page's matters alone: at 100 times the demo, reading them for
    all 3,552 matters of the busiest office was a third of the page's time."""

    db: Session
    office_id: int
    deputies: dict[int, int] | None = None
    asked: set[int] | None = None

    def load(self, wanted: QueueFilter) -> None:
        if wanted.deputy_id is not None or wanted.unassigned:
            self.deputies = self._deputies(None)
        if wanted.outcome is not None:
            self.asked = self._asked(None)

    def keys_of(
        self, keys: Collection[QueueKey], asked: Collection[int] | None = None
    ) -> list[OfficeKey]:
        """The page's keys with their deputy and whether more information was asked (`asked`:
        the page's matters where it was, if the caller read it with the keys)."""
        ids = sorted(k.matter_id for k in keys)
        deputies = self.deputies if self.deputies is not None else self._deputies(ids)
        if asked is None:
            asked = self.asked if self.asked is not None else self._asked(ids)
        return [OfficeKey(k, deputies.get(k.matter_id), k.matter_id in asked) for k in keys]

    def _deputies(self, ids: list[int] | None) -> dict[int, int]:
        if ids == []:
            return {}
        query = (
            select(MatterDeputy.matter_id, MatterDeputy.deputy_id)
            .join(ChargingMatter, col(ChargingMatter.id) == MatterDeputy.matter_id)
            .where(
                ChargingMatter.prosecuting_agency_id == self.office_id,
                col(MatterDeputy.ended_at).is_(None),
            )
        )
        if ids is not None:
            query = query.where(col(MatterDeputy.matter_id).in_(ids))
        return dict(self.db.exec(query).all())

    def _asked(self, ids: list[int] | None) -> set[int]:
        if ids == []:
            return set()
        query = _more_information_asked(self.office_id)
        if ids is not None:
            query = query.where(col(_STANDING.matter_id).in_(ids))  # type: ignore[attr-defined]
        return set(self.db.exec(query).all())  # type: ignore[call-overload]


def page_matters(
    db: Session, prosecutor: Viewer, matter_ids: list[int]
) -> dict[int, tuple[str, list[str]]]:
    """The offense tracking number and offenses of a page's matters of the office, by id: the
    columns the queue shows, without loading the rows."""
    if not matter_ids:
        return {}
    rows = db.exec(
        select(
            ChargingMatter.id, ChargingMatter.offense_tracking_number, ChargingMatter.offenses
        ).where(
            col(ChargingMatter.id).in_(sorted(matter_ids)),
            ChargingMatter.prosecuting_agency_id == prosecutor.agency_id,
        )
    ).all()
    return {mid: (otn, list(offenses)) for mid, otn, offenses in rows if mid is not None}


def state_of(key: OfficeKey | QueueKey, clock_shown: bool) -> QueueState:
    status = (key.key if isinstance(key, OfficeKey) else key).deadline_status
    if status is None:
        return QueueState.new_arrest
    if not clock_shown:
        return QueueState.not_shared
    return QueueState(status.value)


def _matches(key: QueueKey, wanted: QueueFilter, office: OfficeFacts) -> bool:
    deputy = (office.deputies or {}).get(key.matter_id)
    if wanted.deputy_id is not None and deputy != wanted.deputy_id:
        return False
    if wanted.unassigned and deputy is not None:
        return False
    asked = key.matter_id in (office.asked or set())
    if wanted.outcome == QueueOutcome.awaiting and asked:
        return False
    return not (wanted.outcome == QueueOutcome.more_information and not asked)


def cut_queue(
    keys: Collection[QueueKey],
    wanted: QueueFilter,
    offset: int,
    size: int,
    clock_shown: Callable[[Collection[int]], Collection[int]],
    office: OfficeFacts,
    *,
    count_states: bool = False,
) -> QueueCut:
    """Filters and pages the queue, and with `count_states` counts the matters in each state.
    `clock_shown(person_ids)` is the policy's answer (hub.disclosure.identities.allowed_persons,
    engagement); it discloses and logs nothing, and is asked only about the persons the answer
    needs: none beyond the page's (queue_order.queue_page_keys) without a state filter or counts,
    the persons whose clock reads the chosen state with one, every person with a clock for the
    counts (so they are a request of their own: hub.charging.queue_routes). `office` gives the
    deputies and requests for more information (read office-wide only for their filters)."""
    decided: dict[int, bool] = {}

    def shown(persons: Collection[int]) -> list[int]:
        todo = sorted({p for p in persons if p not in decided})
        if todo:
            allowed = set(clock_shown(todo))
            decided.update((p, p in allowed) for p in todo)
        return [p for p in persons if decided[p]]

    office.load(wanted)
    matching = [k for k in keys if _matches(k, wanted, office)]
    counts: dict[QueueState, int] = {}
    if count_states:
        shown([k.person_id for k in matching if k.deadline_status is not None])
        counts = {s: 0 for s in QueueState}
        for k in matching:
            counts[state_of(k, decided.get(k.person_id, False))] += 1
    if wanted.state is not None:
        matching = _in_state(matching, wanted.state, shown, decided)
    if wanted.sort == QueueSort.urgency:
        ordered = queue_page_keys(matching, offset, size, shown)
    else:
        if wanted.sort == QueueSort.arrest:
            matching.sort(key=lambda k: (-k.days_since_arrest, k.matter_id))
        else:
            matching.sort(
                key=lambda k: (k.intake_due_on is None, k.intake_due_on or date.min, k.matter_id)
            )
        ordered = matching[offset : offset + size]
    return QueueCut(keys=office.keys_of(ordered), total=len(matching), counts=counts)


def _in_state(
    keys: list[QueueKey],
    state: QueueState,
    shown: Callable[[Collection[int]], Collection[int]],
    decided: dict[int, bool],
) -> list[QueueKey]:
    """The matters in `state` as this prosecutor may know it: only the persons whose clock
    could read so are decided (every clock for "not shared", one status otherwise)."""
    if state == QueueState.new_arrest:
        return [k for k in keys if k.deadline_status is None]
    if state == QueueState.not_shared:
        candidates = [k for k in keys if k.deadline_status is not None]
    else:
        candidates = [k for k in keys if k.deadline_status == state.value]
    shown([k.person_id for k in candidates])
    return [k for k in candidates if state_of(k, decided[k.person_id]) == state]
