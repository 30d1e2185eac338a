"""The demo's case records, kept through the real services (issue 14, item 10): what the pages
show is then what a real site would have: sections with the date they were updated, status
history with reasons, contacts that set last contact, plan goals, services and bridges on the
ledger (one flagged as displacement), case notes, each with its history and log entry.

take_record() takes a person's case-record rows out of the bulk rows before they are inserted
and returns the events that keep them instead; keep_records() replays every person's events in
time order (the log's time never goes back), each with the clock set to its moment
(hub.db.clock_at), as the client's case manager. Each person has a random stream of its own, so
the same seed gives the same records.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from hub.accounts.models import User
from hub.accounts.sessions import Viewer, viewer_for
from hub.audit.log import Actor
from hub.caserecord.contacts import log_contact
from hub.caserecord.sections import save_section
from hub.clients.models import ClientAssignment
from hub.clients.services import add_case_note
from hub.db import clock_at, utcnow
from hub.demo import phrases
from hub.plans.forms import GoalChangeForm, GoalForm
from hub.plans.services import add_goal, change_goal
from hub.services_ledger.services import ServiceForm, TurnForm, record_service, record_turn
from hub.vocabulary import (
    ContactKind,
    ExitReason,
    FundingSource,
    GoalStatus,
    PlaceKind,
    ProgramStatus,
    RecordSection,
    ServiceKind,
)

PLACES = (PlaceKind.street, PlaceKind.shelter, PlaceKind.office, PlaceKind.home)
# The service a goal's life area most often brings, and who pays for it.
DOMAIN_SERVICE: dict[str, tuple[ServiceKind, FundingSource]] = {
    "housing": (ServiceKind.storage, FundingSource.lead),
    "legal": (ServiceKind.id_documents, FundingSource.lead),
    "income": (ServiceKind.transport, FundingSource.other_public),
    "relationships": (ServiceKind.phone, FundingSource.other_public),
    "health": (ServiceKind.medical_visit, FundingSource.medicaid),
    "substance_use": (ServiceKind.medication_for_opioid_use, FundingSource.medicaid),
}
EXIT_REASONS = (ExitReason.moved, ExitReason.goals_met, ExitReason.declined)
BRIDGE_NIGHTLY_CENTS = 6_500
# Statuses whose clients worked with their case manager long enough to be bridged.
BRIDGED = frozenset({ProgramStatus.active, ProgramStatus.re_engaged, ProgramStatus.exited})

# One step of a person's record: (db, viewer, actor, person_id, what earlier steps made).
Step = Callable[[Session, Viewer, Actor, int, dict[str, Any]], None]


@dataclass(frozen=True, order=True)
class KeptEvent:
    at: datetime
    person: int  # the person's index in the demo (its id is known once inserted)
    number: int  # the step's place in the person's own order, for events at one moment
    user_id: int = field(compare=False)
    step: Step = field(compare=False)


def _evening(day: date, hour: int = 18) -> datetime:
    return datetime.combine(day, time(hour, 0), UTC)


class _Record:
    """Collects one person's events; the replay sorts them by time."""

    def __init__(self, index: int, user_id: int) -> None:
        self.index = index
        self.user_id = user_id
        self.events: list[KeptEvent] = []

    def add(self, at: datetime, step: Step) -> datetime:
        self.events.append(KeptEvent(at, self.index, len(self.events), self.user_id, step))
        return at


def base_status(person: dict[str, Any], referral: dict[str, Any]) -> ProgramStatus:
    """Where the referral's screening and intake left the person, before the case manager
    changed their status (those changes are events)."""
    if referral["intake_done_at"] is not None:
        return ProgramStatus.enrolled
    if referral["screening_done_at"] is not None:
        return ProgramStatus.screened
    return ProgramStatus.referred


@dataclass
class Taken:
    """What take_record leaves for the bulk insert and the replay."""

    events: list[KeptEvent] = field(default_factory=list)
    # Values of the person's row as the referral's screening and intake left it.
    person: dict[str, Any] = field(default_factory=dict)
    # (caseload assignment row, when it ended): it stays open until the record is kept.
    ended: list[tuple[dict[str, Any], datetime]] = field(default_factory=list)


def take_record(index: int, seed: int, plan: Any, today: date, showcase: bool) -> Taken:
    """Takes person `index`'s case-record rows out of `plan` (a hub.demo.program._PersonRows)
    and returns the events that keep them through the services instead. A person on nobody's
    caseload (not screened yet) keeps the rows the referral made."""
    person, referral = plan.person, plan.referral
    holders = [a for a in plan.assignments if a["kind"] == "caseload"]
    if not holders:
        return Taken()
    rng = random.Random(f"demo:{seed}:kept:{index}")
    yesterday = today - timedelta(days=1)
    record = _Record(index, holders[0]["user_id"])
    final, changed_at = person["program_status"], person["status_changed_at"]
    last_contact: date | None = person["last_contact_on"]
    start = base_status(person, referral)
    # Nothing is written for an exited or lost client after their last contact.
    until = last_contact if final in (ProgramStatus.exited, ProgramStatus.not_engaged) else None
    until = until or yesterday

    contact, plan.contact = plan.contact, []
    for row in contact:
        raw = {"phone": row["phone"] or "", "staying_at": row["staying_at"] or ""}
        record.add(row["updated_at"], _section(RecordSection.contact, raw))
    housing, plan.housing = plan.housing, []
    waitlist: tuple[str, date] | None = None
    for row in housing:
        wl, since = row["waitlist"], row["waitlist_since"]
        if showcase and final == ProgramStatus.active and wl is None:
            # The showcase client waits on a public list, bridged by the program (below).
            wl, since = phrases.WAITLISTS[0], referral["intake_done_at"].date()
        raw = {
            "living_situation": str(row["living_situation"]),
            "waitlist": wl or "",
            "waitlist_since": since.isoformat() if since else "",
        }
        at = max(row["updated_at"], _evening(since)) if since else row["updated_at"]
        record.add(at, _section(RecordSection.housing, raw))
        waitlist = (wl, since) if wl and since else None
    health, plan.health = plan.health, []
    for row in health:
        raw = {"mental_health": row["mental_health"], "physical_health": row["physical_health"]}
        record.add(row["updated_at"], _section(RecordSection.health, raw))

    goals, plan.goals = plan.goals, []
    for n, row in enumerate(goals):
        domain = phrases.GOAL_DOMAINS[[g for g, _ in phrases.GOALS].index(row["goal"])]
        at = record.add(row["created_at"], _add_goal(n, row["goal"], domain, row["services"]))
        if showcase or rng.random() < 0.5:
            kind, source = DOMAIN_SERVICE[domain]
            day = max(min(at.date() + timedelta(days=rng.randint(1, 30)), until), at.date())
            moment = max(_evening(day, 23), at + timedelta(minutes=1))
            record.add(moment, _service(kind, source, day, goal=n))
        if row["status"] != GoalStatus.open.value:
            day = max(min(at.date() + timedelta(days=rng.randint(14, 120)), until), at.date())
            moment = max(_evening(day, 23) + timedelta(minutes=30), at + timedelta(minutes=2))
            record.add(moment, _change_goal(n, row["status"]))
    if waitlist is not None and final in BRIDGED:
        _bridge(record, rng, waitlist, until, displaced=showcase)

    notes, plan.notes = plan.notes, []
    for row in notes:
        record.add(row["written_at"], _note(row["category"], row["body"]))

    _status(record, rng, start, final, changed_at, yesterday)
    if last_contact is not None:
        place = rng.choice(PLACES)
        record.add(_evening(last_contact, 17), _contact_entry(last_contact, place))
    taken = Taken(events=record.events)
    taken.person = {
        "program_status": start,
        "status_changed_at": referral["intake_done_at"] or referral["screening_done_at"],
        "last_contact_on": None,
    }
    last = max((event.at for event in record.events), default=changed_at)
    for assignment in holders:
        if assignment["ended_at"] is not None:
            taken.ended.append((assignment, max(assignment["ended_at"], last)))
            assignment["ended_at"] = None
    return taken


def _status(
    record: _Record,
    rng: random.Random,
    start: ProgramStatus,
    final: ProgramStatus,
    changed_at: datetime,
    yesterday: date,
) -> None:
    """The status changes from where screening and intake left the client to where they stand,
    each with its reason (never a sanction)."""
    if final == start:
        return
    if final == ProgramStatus.re_engaged:
        record.add(changed_at, _status_change(ProgramStatus.not_engaged, rng))
        back = min(changed_at.date() + timedelta(days=rng.randint(7, 40)), yesterday)
        # A time not engaged that began yesterday evening ends after it, not before.
        back_at = max(_evening(back), changed_at + timedelta(hours=1))
        record.add(back_at, _status_change(ProgramStatus.re_engaged, rng))
        return
    exit_reason = rng.choice(EXIT_REASONS) if final == ProgramStatus.exited else None
    record.add(changed_at, _status_change(final, rng, exit_reason))


def _bridge(
    record: _Record,
    rng: random.Random,
    waitlist: tuple[str, date],
    yesterday: date,
    *,
    displaced: bool,
) -> None:
    """A LEAD-paid motel stay bridging the client's public waiting list. Some clients' turns
    came; for the showcase client a stay was still paid after theirs did: displacement."""
    name, since = waitlist
    place = rng.randint(5, 400)
    first = min(since + timedelta(days=rng.randint(3, 30)), yesterday - timedelta(days=60))
    if first < since:
        return  # too recent a list to have been bridged yet
    record.add(
        _evening(first, 20),
        _service(
            ServiceKind.motel_stay, FundingSource.lead, first, waitlist=(name, place), units=14
        ),
    )
    if not (displaced or rng.random() < 0.3):
        return
    turn = first + timedelta(days=30)
    record.add(_evening(turn, 21), _turn(turn))
    if displaced:
        again = turn + timedelta(days=10)
        record.add(
            _evening(again, 20),
            _service(
                ServiceKind.motel_stay, FundingSource.lead, again, waitlist=(name, place), units=7
            ),
        )


# --- the steps: each calls one service, as the page's route would ---------------------------


def _section(section: RecordSection, raw: dict[str, Any]) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        based_on = made.get(section.value, 0)
        saved = save_section(db, viewer, actor, person_id, section, raw, based_on=based_on)
        made[section.value] = saved.version

    return step


def _status_change(
    status: ProgramStatus, rng: random.Random, exit_reason: ExitReason | None = None
) -> Step:
    reason = rng.choice(phrases.STATUS_REASONS[status.value])

    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        raw = {
            "program_status": status.value,
            "exit_reason": exit_reason.value if exit_reason else "",
            "reason": reason,
            "effective_on": utcnow().date().isoformat(),  # the clock: the event's day
        }
        _section(RecordSection.status, raw)(db, viewer, actor, person_id, made)

    return step


def _add_goal(n: int, goal: str, domain: str, services: str) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        form = GoalForm(goal=goal, domain=domain, services=services)
        made[f"goal:{n}"] = add_goal(db, viewer, person_id, form, actor).goal_id

    return step


def _change_goal(n: int, status: str) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        form = GoalChangeForm(status=status)
        change_goal(db, viewer, person_id, made[f"goal:{n}"], form, actor)

    return step


def _service(
    kind: ServiceKind,
    source: FundingSource,
    day: date,
    *,
    goal: int | None = None,
    waitlist: tuple[str, int] | None = None,
    units: int = 1,
) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        nightly = BRIDGE_NIGHTLY_CENTS if waitlist else 2_500
        form = ServiceForm(
            kind=kind.value,
            provider=phrases.SERVICE_PROVIDERS[kind.value],
            provided_on=day.isoformat(),
            units=str(units),
            cost=f"{units * nightly / 100:.2f}",
            funding_source=source.value,
            goal_id=str(made[f"goal:{goal}"]) if goal is not None else "",
            waitlist=waitlist[0] if waitlist else "",
            waitlist_place=str(waitlist[1]) if waitlist else "",
        )
        service = record_service(db, viewer, person_id, form, actor, day)
        if waitlist:
            made.setdefault("bridge", service.id)

    return step


def _turn(day: date) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        form = TurnForm(turn_came_on=day.isoformat())
        record_turn(db, viewer, person_id, made["bridge"], form, actor, day)

    return step


def _note(category: Any, body: str) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        add_case_note(db, viewer, person_id, category, body, actor)

    return step


def _contact_entry(day: date, place: PlaceKind) -> Step:
    def step(db: Session, viewer: Viewer, actor: Actor, person_id: int, made: dict) -> None:
        raw = {
            "contact_on": day.isoformat(),
            "kind": ContactKind.in_person.value,
            "place_kind": place.value,
        }
        log_contact(db, viewer, actor, person_id, raw)

    return step


# --- replaying ------------------------------------------------------------------------------


def keep_records(
    engine: Engine,
    events: Sequence[KeptEvent],
    person_ids: Sequence[int],
    ended: Sequence[tuple[dict[str, Any], datetime]],
) -> None:
    """Replays every event in time order, each through its service with the clock at its
    moment, as the person's case manager; then ends the caseload assignments that had ended.
    Every service commits its own unit of work."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # A demo half built is rebuilt, never recovered: its thousands of small commits
            # need not each wait for the disk. Set outside any transaction, on this connection.
            connection.connection.driver_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
        try:
            with Session(bind=connection, expire_on_commit=False) as db:
                _replay(db, events, person_ids, ended)
        finally:
            if sqlite:
                connection.rollback()
                connection.connection.driver_connection.execute("PRAGMA synchronous=FULL")  # type: ignore[union-attr]


def _replay(
    db: Session,
    events: Sequence[KeptEvent],
    person_ids: Sequence[int],
    ended: Sequence[tuple[dict[str, Any], datetime]],
) -> None:
    viewers: dict[int, Viewer] = {}
    made: dict[int, dict[str, Any]] = {}
    for number, event in enumerate(sorted(events)):
        viewer = viewers.get(event.user_id)
        if viewer is None:
            user = db.exec(select(User).where(User.id == event.user_id)).one()
            viewer = viewers[event.user_id] = viewer_for(db, user)
        actor = Actor(
            user_id=viewer.user_id,
            role=viewer.role.value,
            agency_id=viewer.agency_id,
            request_id=f"demo-{number}",
            address="127.0.0.1",
        )
        person_id = person_ids[event.person]
        with clock_at(event.at):
            event.step(db, viewer, actor, person_id, made.setdefault(event.person, {}))
    for assignment, ended_at in ended:
        db.execute(
            update(ClientAssignment)
            .where(
                col(ClientAssignment.person_id) == assignment["person_id"],
                col(ClientAssignment.user_id) == assignment["user_id"],
                col(ClientAssignment.kind) == assignment["kind"],
            )
            .values(ended_at=ended_at)
        )
    db.commit()
