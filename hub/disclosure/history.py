"""Reading a client's record history through the policy: the saved changes of each section
(record_change) and the contact log (contact_entry), each under the read policy of its own
category, logged in the same transaction.

    history = disclose_history(db, viewer, person_id, purpose, actor)

A viewer who may not see housing sees none of housing's history; a change or a contact that a
42 CFR Part 2 program's staff recorded (or whose earlier value they recorded) is shown only
where the decision allows that category's Part 2 data (hub.disclosure.origin), and is left out
otherwise, never loaded. A contact's note follows its own category."""

import json
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.caserecord.models import ContactEntry, RecordChange
from hub.db import ident, rollback_on_error, utcnow
from hub.disclosure.notice import REDISCLOSURE_NOTICE
from hub.disclosure.origin import TREATMENT_LIVING_SITUATIONS, part2_staff
from hub.disclosure.policy import Decision, PersonNotFound, decide, gather_facts
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import (
    Category,
    ContactKind,
    DisclosureOutcome,
    DisclosureTag,
    PlaceKind,
    Purpose,
    WithheldReason,
)

# The newest entries shown on a page; the log names exactly those shown.
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class ChangeEntry:
    id: int
    section: str
    category: Category
    version: int
    changed_by_id: int
    changed_at: datetime
    previous: dict[str, Any] | None
    saved: dict[str, Any]
    part2: bool  # Part 2 data by its source: the 42 CFR 2.32 notice goes with it


@dataclass(frozen=True)
class ContactLogEntry:
    id: int
    contact_on: date
    kind: ContactKind
    place_kind: PlaceKind
    recorded_by_id: int
    note: str | None  # None: no note, or one of a category this viewer may not see
    note_category: Category | None
    part2: bool


@dataclass(frozen=True)
class RecordHistory:
    """What one viewer may see of one client's history: changes and contacts of disclosed
    categories only; `withheld` says why each other category's history is not there."""

    person_id: int
    purpose: Purpose
    log_seq: int
    changes: tuple[ChangeEntry, ...]
    contacts: tuple[ContactLogEntry, ...]
    withheld: dict[Category, WithheldReason] = field(default_factory=dict)
    part2: bool = False

    @property
    def notice(self) -> str | None:
        return REDISCLOSURE_NOTICE if self.part2 else None


def _part2_change() -> ColumnElement[bool]:
    staff = part2_staff()
    return or_(
        col(RecordChange.changed_by_id).in_(staff),
        and_(
            col(RecordChange.previous_recorded_by_id).is_not(None),
            col(RecordChange.previous_recorded_by_id).in_(staff),
        ),
    )


def _allowed(decision: Decision, categories: Collection[Category], part2: Any) -> Any:
    """Rows of the allowed categories; Part 2 ones only where the decision allows them."""
    clauses = []
    for category in categories:
        if not decision.allows(category):
            continue
        clause = col(RecordChange.category) == category
        clauses.append(clause if decision.allows_part2(category) else and_(clause, ~part2))
    return or_(*clauses) if clauses else false()


def _names_treatment(entry: ChangeEntry) -> bool:
    values = [entry.saved, entry.previous or {}]
    return any(v.get("living_situation") in TREATMENT_LIVING_SITUATIONS for v in values)


def disclose_history(
    db: Session,
    viewer: Viewer,
    person_id: int,
    purpose: Purpose,
    actor: Actor,
    categories: Collection[Category] | None = None,
) -> RecordHistory:
    """Decides, reads only what may be shown, logs one disclosure entry and commits. Raises
    PersonNotFound for an unknown client and for one whose identity the viewer may not see
    (the refused read is still logged, outcome withheld)."""
    wanted = set(categories or Category)
    with rollback_on_error(db):
        facts = gather_facts(db, viewer, person_id, utcnow())
        decision = decide(viewer, facts, purpose, policy_in_force(db))
        if not decision.allows(Category.identity):
            _log(db, actor, decision, [], [], set())
            raise PersonNotFound(f"No client with id {person_id} for this viewer.")
        part2 = _part2_change()
        rows = db.exec(
            select(RecordChange, part2.label("part2"))
            .where(RecordChange.person_id == person_id, _allowed(decision, wanted, part2))
            .order_by(col(RecordChange.changed_at).desc(), col(RecordChange.id).desc())
            .limit(HISTORY_LIMIT)
        ).all()
        changes = [
            ChangeEntry(
                id=ident(r.id),
                section=r.section,
                category=r.category,
                version=r.version,
                changed_by_id=r.changed_by_id,
                changed_at=r.changed_at,
                previous=json.loads(r.previous) if r.previous else None,
                saved=json.loads(r.saved),
                part2=bool(p2),
            )
            for r, p2 in rows
        ]
        # HMIS 205 names treatment whoever recorded it: Part 2 data, shown only where allowed.
        changes = [
            replace(c, part2=True) if c.category == Category.housing and _names_treatment(c) else c
            for c in changes
        ]
        shown = [c for c in changes if not c.part2 or decision.allows_part2(c.category)]
        contacts = _contacts(db, decision, person_id) if Category.engagement in wanted else []
        entry = _log(db, actor, decision, shown, contacts, wanted)
    return RecordHistory(
        person_id=person_id,
        purpose=purpose,
        log_seq=entry.seq,
        changes=tuple(shown),
        contacts=tuple(contacts),
        withheld={c: r for c, r in decision.withheld.items() if c in wanted},
        part2=any(c.part2 for c in shown) or any(c.part2 for c in contacts),
    )


def _contacts(db: Session, decision: Decision, person_id: int) -> list[ContactLogEntry]:
    if not decision.allows(Category.engagement):
        return []
    part2 = col(ContactEntry.recorded_by_id).in_(part2_staff())
    where: list[ColumnElement[bool]] = [col(ContactEntry.person_id) == person_id]
    if not decision.allows_part2(Category.engagement):
        where.append(~part2)
    rows = db.execute(
        sa_select(
            col(ContactEntry.id),
            col(ContactEntry.contact_on),
            col(ContactEntry.kind),
            col(ContactEntry.place_kind),
            col(ContactEntry.recorded_by_id),
            col(ContactEntry.note_category),
            part2.label("part2"),
        )
        .where(*where)
        .order_by(col(ContactEntry.contact_on).desc(), col(ContactEntry.id).desc())
        .limit(HISTORY_LIMIT)
    ).all()
    # A note is read only where its own category (and, for Part 2 data, its rule) allows it.
    readable = [
        r.id
        for r in rows
        if r.note_category is not None
        and decision.allows(r.note_category)
        and (not r.part2 or decision.allows_part2(r.note_category))
    ]
    notes: dict[int, str | None] = {}
    if readable:
        notes = dict(
            db.exec(
                select(ContactEntry.id, ContactEntry.note).where(col(ContactEntry.id).in_(readable))
            ).all()  # type: ignore[arg-type]
        )
    return [
        ContactLogEntry(
            id=r.id,
            contact_on=r.contact_on,
            kind=r.kind,
            place_kind=r.place_kind,
            recorded_by_id=r.recorded_by_id,
            note=notes.get(r.id),
            note_category=r.note_category if r.id in notes else None,
            part2=bool(r.part2),
        )
        for r in rows
    ]


def _log(
    db: Session,
    actor: Actor,
    decision: Decision,
    changes: list[ChangeEntry],
    contacts: list[ContactLogEntry],
    wanted: set[Category],
) -> Any:
    shown = {c.category for c in changes}
    if contacts:
        shown.add(Category.engagement)
    shown |= {c.note_category for c in contacts if c.note_category is not None}
    part2_origin = sorted(
        {c.category.value for c in changes if c.part2}
        | ({Category.engagement.value} if any(c.part2 for c in contacts) else set())
    )
    if part2_origin:
        shown.add(Category.treatment)  # 42 CFR 2.24: Part 2 data is accounted as treatment
    return append_and_commit(
        db,
        actor,
        Event(
            kind="disclosure",
            tag=DisclosureTag.record_history_read.value,
            outcome=(DisclosureOutcome.disclosed if shown else DisclosureOutcome.withheld).value,
            purpose=decision.purpose.value,
            person_id=decision.person_id,
            categories=sorted(c.value for c in shown),
            policy_version=decision.policy_version,
            detail={
                "changes": [c.id for c in changes],
                "contacts": [c.id for c in contacts],
                "notes": [c.id for c in contacts if c.note is not None],
                "part2_origin": part2_origin,
                "basis": {
                    c.value: decision.disclosed[c]
                    for c in sorted(shown & wanted)
                    if c in decision.disclosed
                },
            },
        ),
    )
