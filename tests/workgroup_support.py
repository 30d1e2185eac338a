"""A work group at the table, for the work-group tests (service, route and browser): two
clients of an arrest referral each, one of them with housing and treatment data, a caseload,
a defender, and a consent naming the prosecuting office for housing at the work group."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from hub.audit.models import LogEntry
from hub.clients.models import HousingRecord, PlanGoal, TreatmentRecord
from hub.db import ident, utcnow
from hub.disclosure.policy import decide, gather_facts, load_policy
from hub.vocabulary import (
    AssignmentKind,
    Category,
    ConsentKind,
    DisclosureTag,
    ItemEntryKind,
    Purpose,
)
from hub.workgroup import at_the_table, proposing, schedule
from hub.workgroup.models import AgendaItem, WorkGroupMeeting
from tests.fixtures.referrals import World

MEMBERS = (
    "officer",
    "sergeant",
    "case_manager",
    "supervisor",
    "defender",
    "coordinator",
    "privacy_officer",
)


@dataclass
class Table:
    world: World
    meeting: WorkGroupMeeting
    consented: int  # the client whose consent names the prosecuting office for housing
    other: int
    prosecutor: str  # the world's name of the prosecutor of the office the arrests went to

    @property
    def members(self) -> tuple[str, ...]:
        return (*MEMBERS, self.prosecutor)


def meeting_tomorrow(world: World, invitees: list[int]) -> WorkGroupMeeting:
    """A draft work-group meeting for tomorrow, made by the coordinator."""
    return schedule.create_meeting(
        world.db,
        world.viewer("coordinator"),
        schedule.MeetingForm("Work group", utcnow() + timedelta(days=1), "Room B", None, invitees),
        world.actor("coordinator"),
    )


def seat_the_table(world: World, *, publish: bool = True) -> Table:
    db, f = world.db, world.factories
    referral, matter = world.arrest()
    other_referral, _ = world.arrest()
    office = matter.prosecuting_agency_id
    prosecutor = next(
        name
        for name in ("county_prosecutor", "city_prosecutor")
        if world.users[name].agency_id == office
    )
    for person_id in (referral.person_id, other_referral.person_id):
        f.ClientAssignment(person_id=person_id, user_id=world.users["case_manager"].id)
        f.ClientAssignment(
            person_id=person_id, user_id=world.users["defender"].id, kind=AssignmentKind.defense
        )
        db.add_all(
            [
                HousingRecord(person_id=person_id, living_situation=116, waitlist="Housing first"),
                TreatmentRecord(person_id=person_id, program="Outpatient MOUD"),
                PlanGoal(person_id=person_id, goal="Get an ID card"),
            ]
        )
    db.commit()
    f.Consent(
        person_id=referral.person_id,
        kind=ConsentKind.general,
        categories=[Category.housing.value],
        purposes=[Purpose.work_group.value],
        discloser_agency_id=world.agencies["case_management"].id,
        recipient_agency_id=office,
        created_by_id=world.users["case_manager"].id,
    )
    invitees = [ident(world.users[name].id) for name in (*MEMBERS, prosecutor)]
    meeting = meeting_tomorrow(world, invitees)
    keys = [p.key for p in proposing.compute_proposals(db, meeting, date.today())]
    proposing.add_proposed_items(
        db,
        world.viewer("coordinator"),
        ident(meeting.id),
        keys,
        world.actor("coordinator"),
        date.today(),
    )
    if publish:
        schedule.publish(
            db, world.viewer("coordinator"), ident(meeting.id), world.actor("coordinator")
        )
    return Table(world, meeting, referral.person_id, other_referral.person_id, prosecutor)


def agenda_items(db: Session, meeting_id: int) -> list[AgendaItem]:
    """The meeting's items in agenda order; commits at once (SQLite: never hold the write lock
    while the server works)."""
    found = list(
        db.exec(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, col(AgendaItem.removed_at).is_(None))
            .order_by(col(AgendaItem.position))
        )
    )
    db.commit()
    return found


def allowed_categories(world: World, name: str, person_id: int) -> set[Category]:
    """The policy's own answer, as data: what this member may see of the client at the table."""
    viewer = world.viewer(name)
    facts = gather_facts(world.db, viewer, person_id, utcnow())
    decision = decide(viewer, facts, Purpose.work_group, load_policy())
    world.db.commit()
    return set(decision.disclosed)


_ITEM = re.compile(r'<li id="item-(\d+)"')
_PERSON = re.compile(r'data-person="(\d+)"')
_CATEGORY = re.compile(r'data-category="(\w+)" data-state="(disclosed|withheld)"')
_ENTRY = re.compile(r'data-entry="(\d+)"')


@dataclass(frozen=True)
class RenderedItem:
    item_id: int
    person_id: int | None
    disclosed: set[Category]
    withheld: set[Category]
    entry_ids: set[int]


def rendered_items(html: str) -> dict[int, RenderedItem]:
    """The agenda items of a page, each with the categories it shows and withholds."""
    parts = _ITEM.split(html)[1:]
    items = {}
    for item_id, chunk in zip(parts[::2], parts[1::2], strict=True):
        person = _PERSON.search(chunk)
        states = _CATEGORY.findall(chunk)
        items[int(item_id)] = RenderedItem(
            item_id=int(item_id),
            person_id=int(person.group(1)) if person else None,
            disclosed={Category(c) for c, s in states if s == "disclosed"},
            withheld={Category(c) for c, s in states if s == "withheld"},
            entry_ids={int(e) for e in _ENTRY.findall(chunk)},
        )
    return items


def item_reads(db: Session, user_id: int, after: int = -1) -> list[LogEntry]:
    entries = list(
        db.exec(
            select(LogEntry)
            .where(
                LogEntry.tag == DisclosureTag.work_group_item_read.value,
                LogEntry.actor_user_id == user_id,
                col(LogEntry.seq) > after,
            )
            .order_by(col(LogEntry.seq))
        )
    )
    db.commit()
    return entries


def last_seq(db: Session) -> int:
    seq = db.exec(select(LogEntry.seq).order_by(col(LogEntry.seq).desc())).first()
    db.commit()
    return -1 if seq is None else seq


_VERSION = re.compile(r'id="agenda-(?:live|poll)" data-version="(\d+)"')


def page_version(html: str) -> int:
    """The live agenda's version as the page (or the fragment) carries it for this member."""
    match = _VERSION.search(html)
    assert match, "no live agenda on the page"
    return int(match.group(1))


def coordinator_note(world: World, item_id: int, category: Category, text: str) -> None:
    """The coordinator's discussion note on an item, as the meeting page would add it."""
    at_the_table.add_entry(
        world.db,
        world.viewer("coordinator"),
        item_id,
        ItemEntryKind.note,
        category,
        text,
        world.actor("coordinator"),
    )
