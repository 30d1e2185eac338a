"""Showing work-group agenda items through the policy: the client's record and what members
wrote about the client (updates, discussion notes, action items, discussion flags), decided
together.

Each piece a member writes carries a category and is client data of that category: a member
sees it exactly when the decision for this viewer, client and purpose discloses that category
(`entry_visible`). The workgroup domain never decides that itself.

    shown = disclose_items(db, viewer, [ItemRequest(...), ...], Purpose.work_group, actor)

decides for every client in one set of queries, reads only what each decision allows (a
withheld entry's body is never loaded), appends ONE disclosure entry per item shown
(`disclosure:work_group_item:read`) and commits, all in one transaction: if a log write
fails, nothing is returned.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_many
from hub.db import rollback_on_error, table_of, utcnow
from hub.disclosure.origin import part2_origin
from hub.disclosure.policy import Decision, decide, gather_facts_many
from hub.disclosure.record import (
    _detail,
    _outcome,
    _participant,
    _sections_many,
    _withhold_segmented,
    actor_for_log,
    effective_categories,
    part2_disclosed,
)
from hub.disclosure.record_view import DisclosedRecord, WithheldCategory
from hub.disclosure.releases import policy_in_force
from hub.vocabulary import PART2_CATEGORIES, Category, DisclosureTag, Purpose
from hub.workgroup.models import ActionItem, DiscussionFlag, ItemEntry

# The tables whose rows carry their own category, and the column holding their words.
_ATTACHED: dict[str, tuple[type[SQLModel], str]] = {
    "entries": (ItemEntry, "body"),
    "action_items": (ActionItem, "description"),
    "flags": (DiscussionFlag, "note"),
}


@dataclass(frozen=True)
class ItemRequest:
    """One item to show: its client (None for program business) and the ids of what was
    written on it. `key` is the caller's name for the item (an agenda item's id), logged."""

    key: str
    person_id: int | None
    entry_ids: Sequence[int] = ()
    action_item_ids: Sequence[int] = ()
    flag_ids: Sequence[int] = ()
    # Why the item is on the agenda is itself data of a category (an arrest is legal, a late
    # intake is engagement): shown only if that category is.
    reason_category: Category | None = None


@dataclass(frozen=True)
class Attached:
    """A disclosed update, note, action item or flag note: its row, and whether it is 42 CFR
    Part 2 data (the label travels into notes, minutes and printouts)."""

    row: Any
    category: Category | None
    origin_part2: bool = False  # written by a Part 2 program's staff (42 CFR 2.11)

    @property
    def part2(self) -> bool:
        return self.origin_part2 or self.category in PART2_CATEGORIES


@dataclass(frozen=True)
class DisclosedItem:
    """What one viewer may see of one item. `record` is None for program business; a withheld
    category of the record is a WithheldCategory in its place. Withheld entries are absent."""

    key: str
    person_id: int | None
    record: DisclosedRecord | None
    entries: tuple[Attached, ...] = ()
    action_items: tuple[Attached, ...] = ()
    flags: tuple[Attached, ...] = ()
    log_seq: int | None = None
    withheld_entry_categories: frozenset[Category] = field(default_factory=frozenset)
    reason_shown: bool = True

    @property
    def part2(self) -> bool:
        """42 CFR 2.32: treatment data is on this item, so its page or print carries the notice."""
        attached = (*self.entries, *self.action_items, *self.flags)
        return bool(self.record and self.record.part2) or any(a.part2 for a in attached)

    @property
    def shape(self) -> "ItemShape":
        """What of this item reached the viewer, as ids and states only (the live version)."""
        return ItemShape(
            key=self.key,
            reason_shown=self.reason_shown,
            identity_shown=self.record is not None
            and Category.identity in self.record.disclosed_categories,
            entry_ids=tuple(a.row.id for a in self.entries),
            action_items=tuple((a.row.id, str(a.row.status)) for a in self.action_items),
            flag_ids=tuple(a.row.id for a in self.flags),
        )


@dataclass(frozen=True)
class ItemShape:
    """Which parts of an item one viewer receives, without their words: what a live agenda's
    version is computed from, so that it rises only for what this viewer would see."""

    key: str
    reason_shown: bool
    identity_shown: bool
    entry_ids: tuple[int, ...]
    action_items: tuple[tuple[int, str], ...]  # (id, status)
    flag_ids: tuple[int, ...]


def entry_visible(
    decision: Decision | None, category: Category | None, part2: bool = False
) -> bool:
    """Whether a piece written on an item reaches this viewer: by the record's decision for its
    category (`part2`: written by a Part 2 program's staff, so decided as Part 2 data). Only
    program business (no client, so no decision) has no category."""
    if decision is None:
        return category is None
    if category is None:
        return False
    return decision.allows_part2(category) if part2 else decision.allows(category)


def _attached_meta(
    db: Session, table: type[SQLModel], ids: set[int]
) -> dict[int, tuple[Category | None, bool]]:
    """Ids, categories and whether a Part 2 program wrote it: enough to decide, no words read."""
    if not ids:
        return {}
    columns = table_of(table).c
    rows = db.exec(
        select(columns.id, columns.category, part2_origin(table)).where(columns.id.in_(sorted(ids)))
    )
    return {row[0]: (row[1], bool(row[2])) for row in rows}


def _load(db: Session, table: type[SQLModel], ids: list[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows: Any = db.exec(select(table).where(table_of(table).c.id.in_(ids)))
    return {row.id: row for row in rows}


def disclose_items(
    db: Session,
    viewer: Viewer,
    requests: Sequence[ItemRequest],
    purpose: Purpose,
    actor: Actor,
    *,
    view: str = "agenda",
) -> list[DisclosedItem]:
    """Decides and reads every requested item for this viewer and purpose, logs one disclosure
    entry per client item (with the ids of the entries it disclosed, and `view`: agenda, live,
    print, minutes or proposal), and commits. Raises if anything fails; nothing is returned."""
    with rollback_on_error(db):
        meta, decided = _decide_items(db, viewer, requests, purpose)
        read: list[tuple[ItemRequest, Decision | None, DisclosedRecord | None, Any, set[Category]]]
        read = []
        for request, decision in decided:
            attached: dict[str, tuple[Attached, ...]] = {}
            withheld: set[Category] = set()
            for name, (table, _) in _ATTACHED.items():
                ids = list(getattr(request, _ids(name)))
                known = meta[name]
                visible = [i for i in ids if i in known and entry_visible(decision, *known[i])]
                withheld |= {
                    c for i in ids if i not in visible and (c := known.get(i, (None, False))[0])
                }
                rows = _load(db, table, visible)
                attached[name] = tuple(
                    Attached(row=rows[i], category=known[i][0], origin_part2=known[i][1])
                    for i in visible
                    if i in rows
                )
            read.append((request, decision, None, attached, withheld))
        # Every client's sections in one set of queries (grouped by what is allowed), then
        # each item's record from them.
        sections = _sections_many(
            db,
            {r.person_id: d for r, d, _, _, _ in read if d is not None and r.person_id is not None},
        )
        done: list[
            tuple[ItemRequest, Decision | None, DisclosedRecord | None, Any, set[Category]]
        ] = []
        for r, d, _, attached, withheld in read:
            if d is not None and r.person_id is not None:
                # A one-row section that is Part 2 data the viewer may not see is withheld.
                d, mine = _withhold_segmented(d, sections[r.person_id])
                done.append((r, d, _record(db, r.person_id, d, mine), attached, withheld))
            else:
                done.append((r, d, None, attached, withheld))
        read = done
        # The entries are appended only now, after every read: the first append takes the
        # log's lock (PostgreSQL), which every disclosing request of every process waits for
        # until this transaction commits. Still one transaction: shown only if logged.
        events = [
            (i, _event(request, decision, record, attached, view))
            for i, (request, decision, record, attached, _) in enumerate(read)
            if record is not None and decision is not None
        ]
        entries = append_many(db, actor_for_log(viewer, actor), [event for _, event in events])
        seqs = {i: entry.seq for (i, _), entry in zip(events, entries, strict=True)}
        shown: list[DisclosedItem] = []
        for i, (request, decision, record, attached, withheld) in enumerate(read):
            log_seq = seqs.get(i)
            if record is not None and log_seq is not None:
                record = _with_seq(record, log_seq)
            shown.append(
                DisclosedItem(
                    key=request.key,
                    person_id=request.person_id,
                    record=record,
                    log_seq=log_seq,
                    withheld_entry_categories=frozenset(withheld),
                    reason_shown=_reason_shown(request, decision),
                    **attached,
                )
            )
        db.commit()
    return shown


def _decide_items(
    db: Session, viewer: Viewer, requests: Sequence[ItemRequest], purpose: Purpose
) -> tuple[
    dict[str, dict[int, tuple[Category | None, bool]]], list[tuple[ItemRequest, Decision | None]]
]:
    """The categories of what was written on the items (ids and categories, no words), and
    each item's decision (None for program business); an item whose client is not on file is
    left out: nothing to show, nothing disclosed."""
    policy = policy_in_force(db)
    persons = {r.person_id for r in requests if r.person_id is not None}
    facts = gather_facts_many(db, viewer, persons, utcnow())
    meta = {
        name: _attached_meta(db, table, {i for r in requests for i in getattr(r, _ids(name))})
        for name, (table, _) in _ATTACHED.items()
    }
    decided: list[tuple[ItemRequest, Decision | None]] = []
    for request in requests:
        if request.person_id is None:
            decided.append((request, None))
        elif request.person_id in facts:
            decided.append((request, decide(viewer, facts[request.person_id], purpose, policy)))
    return meta, decided


def _reason_shown(request: ItemRequest, decision: Decision | None) -> bool:
    return decision is None or (
        request.reason_category is not None and decision.allows(request.reason_category)
    )


def item_shapes(
    db: Session, viewer: Viewer, requests: Sequence[ItemRequest], purpose: Purpose
) -> list[ItemShape]:
    """The shape `disclose_items` would give each item (the same decisions, the same items
    left out), deciding only: no words are read and nothing is disclosed, so nothing is
    logged. For the live agenda's poll."""
    meta, decided = _decide_items(db, viewer, requests, purpose)
    action_ids = {i for r, _ in decided for i in r.action_item_ids}
    statuses = dict(
        db.exec(
            select(ActionItem.id, ActionItem.status).where(col(ActionItem.id).in_(action_ids))
        ).all()
        if action_ids
        else {}
    )
    shapes = []
    for request, decision in decided:
        visible = {
            name: tuple(
                i for i in getattr(request, _ids(name)) if i in c and entry_visible(decision, *c[i])
            )
            for name, c in meta.items()
        }
        shapes.append(
            ItemShape(
                key=request.key,
                reason_shown=_reason_shown(request, decision),
                identity_shown=decision is not None and decision.allows(Category.identity),
                entry_ids=visible["entries"],
                action_items=tuple((i, str(statuses.get(i))) for i in visible["action_items"]),
                flag_ids=visible["flags"],
            )
        )
    return shapes


def _ids(name: str) -> str:
    return {"entries": "entry_ids", "action_items": "action_item_ids", "flags": "flag_ids"}[name]


def _record(
    db: Session, person_id: int, decision: Decision, sections: dict[Category, Any]
) -> DisclosedRecord:
    # Case notes are not read: an agenda item shows the record's sections, not the casefile.
    allowed = set(decision.disclosed)
    participant = (
        _participant(db, person_id, sections)
        if Category.engagement in allowed or decision.participation
        else None
    )
    part2 = bool(part2_disclosed(sections)) or (
        Category.treatment in allowed and bool(sections[Category.treatment].entries)
    )
    withheld = {c: WithheldCategory(c, r) for c, r in decision.withheld.items()}
    return DisclosedRecord(
        person_id=person_id,
        purpose=decision.purpose,
        policy_version=decision.policy_version,
        log_seq=-1,
        basis=dict(decision.disclosed),
        notes=(),
        participant=participant,
        part2=part2,
        facts=None,  # an agenda item offers no note form
        **{c.value: sections[c] if c in sections else withheld[c] for c in Category},
    )


def _with_seq(record: DisclosedRecord, seq: int) -> DisclosedRecord:
    from dataclasses import replace

    return replace(record, log_seq=seq)


def _event(
    request: ItemRequest,
    decision: Decision,
    record: DisclosedRecord,
    attached: dict[str, tuple[Attached, ...]],
    view: str,
) -> Event:
    part2 = record.part2 or any(a.part2 for rows in attached.values() for a in rows)
    sections = {c: record.section(c) for c in decision.disclosed}
    origin = set(part2_disclosed(sections))
    origin |= {
        a.category for rows in attached.values() for a in rows if a.origin_part2 and a.category
    }
    ordered = [c for c in Category if c in origin]
    detail = _detail(decision, (), part2, sections, ordered)
    del detail["notes"]
    detail.update(
        {name: [a.row.id for a in rows] for name, rows in attached.items()},
        item=request.key,
        view=view,
    )
    return Event(
        kind="disclosure",
        tag=DisclosureTag.work_group_item_read.value,
        outcome=_outcome(decision),
        purpose=decision.purpose.value,
        person_id=request.person_id,
        categories=effective_categories(decision, ordered),
        policy_version=decision.policy_version,
        detail=detail,
    )
