"""The coordinator's hand on a draft agenda: items added by hand (program business, or a
client with the coordinator's words under their category), moved, grouped by kind, removed."""

from collections.abc import Sequence

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor
from hub.clients.models import Person
from hub.db import rollback_on_error, utcnow
from hub.vocabulary import (
    AgendaItemKind,
    Category,
    ItemEntryKind,
    SecurityEventTag,
)
from hub.workgroup.access import append_item, item_on, items_on, open_draft, take_up, touch
from hub.workgroup.at_the_table import write_entry
from hub.workgroup.models import (
    AgendaItem,
)
from hub.workgroup.proposing import awaiting_matter
from hub.workgroup.rules import (
    KIND_ORDER,
    WorkGroupError,
    checked_category,
    checked_text,
    security_event,
)


def add_manual_item(
    db: Session,
    coordinator: Viewer,
    meeting_id: int,
    actor: Actor,
    *,
    topic: str | None = None,
    person_id: int | None = None,
    category: Category | str | None = None,
    text: str | None = None,
) -> AgendaItem:
    """An item by hand: program business with a topic (no client data in it), or a client with
    the coordinator's words as the item's first entry, under their category. Commits."""
    meeting = open_draft(db, coordinator, meeting_id)
    with rollback_on_error(db):
        if person_id is None:
            item = AgendaItem(
                meeting_id=meeting_id,
                kind=AgendaItemKind.manual,
                topic=checked_text(topic or "", "topic", 200),
                added_by_id=coordinator.user_id,
            )
            append_item(db, meeting, item)
        else:
            if db.get(Person, person_id) is None:
                raise WorkGroupError("no such client")
            chosen = checked_category(category, person_id)
            body = checked_text(text or "", "reason for discussing the client")
            item = append_item(
                db,
                meeting,
                AgendaItem(
                    meeting_id=meeting_id,
                    kind=AgendaItemKind.manual,
                    person_id=person_id,
                    matter_id=awaiting_matter(db, person_id),
                    added_by_id=coordinator.user_id,
                ),
            )
            write_entry(db, coordinator, item, ItemEntryKind.update, chosen, body, actor)
        security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting_id, "added": [item.id]},
        )
        db.commit()
    return item


def move_item(db: Session, coordinator: Viewer, item_id: int, direction: str, actor: Actor) -> None:
    """Moves an item one place up or down. Commits."""
    item = item_on(db, item_id)
    meeting = open_draft(db, coordinator, item.meeting_id)
    items = items_on(db, item.meeting_id)
    index = next(n for n, i in enumerate(items) if i.id == item.id)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise WorkGroupError("move an item up or down")
    with rollback_on_error(db):
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
            _renumber(db, items)
            touch(db, meeting)
            security_event(
                db,
                actor,
                SecurityEventTag.agenda_changed,
                {"meeting_id": meeting.id, "moved": item_id},
            )
        db.commit()


def _renumber(db: Session, items: Sequence[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position
        db.add(item)


def group_by_kind(db: Session, coordinator: Viewer, meeting_id: int, actor: Actor) -> None:
    """Orders the agenda by kind (new arrests first), keeping the order within each kind."""
    meeting = open_draft(db, coordinator, meeting_id)
    items = items_on(db, meeting_id)
    with rollback_on_error(db):
        _renumber(db, sorted(items, key=lambda i: KIND_ORDER.index(i.kind)))
        touch(db, meeting)
        security_event(
            db, actor, SecurityEventTag.agenda_changed, {"meeting_id": meeting_id, "grouped": True}
        )
        db.commit()


def remove_item(db: Session, coordinator: Viewer, item_id: int, actor: Actor) -> None:
    """Takes an item off the agenda (kept, marked removed: log entries may name it); a flag it
    came from is open again for a later agenda. Commits."""
    item = item_on(db, item_id)
    meeting = open_draft(db, coordinator, item.meeting_id)
    with rollback_on_error(db):
        item.removed_at = utcnow()
        db.add(item)
        if item.flag_id:
            take_up(db, item.flag_id, None)
        touch(db, meeting)
        security_event(
            db,
            actor,
            SecurityEventTag.agenda_changed,
            {"meeting_id": meeting.id, "removed": item_id},
        )
        db.commit()
