"""Writing to a client's record: case notes, under the write policy (hub.caserecord.writing)
like every other part of the record."""

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.caserecord.writing import WriteRefused, require_write, writable_categories
from hub.clients.models import CaseNote
from hub.db import ident, rollback_on_error, utcnow
from hub.disclosure.origin import part2_ids
from hub.disclosure.policy import Facts
from hub.permissions import allowed
from hub.vocabulary import Action, Category, Purpose, SecurityEventTag

MAX_NOTE_LENGTH = 20_000


class NoteError(ValueError):
    """The note cannot be added as asked; nothing changed. `not_found`: the client is unknown
    or unseen by the author (answer 404)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def add_case_note(
    db: Session, viewer: Viewer, person_id: int, category: Category, body: str, actor: Actor
) -> CaseNote:
    """Adds a case note where the write policy lets the author keep its category (their own
    caseload, their agency's clients for a supervisor, treatment only on a Part 2 program's
    staff; never police, prosecution or defense) and they may read it back; logs
    case_note_created and commits. A refusal is logged and changes nothing."""
    if not allowed(viewer.role, Action.notes_write):
        raise NoteError("Your role does not write case notes.")
    try:
        category = Category(category)
    except ValueError as exc:
        raise NoteError("A case note needs a category.") from exc
    body = body.strip()
    if not body or len(body) > MAX_NOTE_LENGTH:
        raise NoteError(f"A case note holds 1 to {MAX_NOTE_LENGTH} characters.")
    # A refused note is a refused access (ASVS V16), logged by the write policy with the
    # client's record number and the category tried, never the note.
    try:
        grant = require_write(db, viewer, person_id, category, actor)
    except WriteRefused as exc:
        message = (
            "No such client."
            if exc.not_found
            else f"You cannot file a note under {category.value} for this client."
        )
        raise NoteError(message, not_found=exc.not_found) from exc
    with rollback_on_error(db):
        note = CaseNote(
            person_id=person_id,
            author_id=viewer.user_id,
            category=category,
            written_at=utcnow(),
            body=body,
        )
        db.add(note)
        db.flush()
        event = Event(
            kind="security",
            tag=SecurityEventTag.case_note_created.value,
            outcome="success",
            purpose=Purpose.case_management.value,
            person_id=person_id,
            categories=[category.value],
            policy_version=grant.read.policy_version,
            detail={"note_id": note.id, "write_policy_version": grant.write_policy_version},
        )
        append_and_commit(db, actor, event)
        return note


def written_in_part2_program(db: Session, note: CaseNote) -> bool:
    """42 CFR 2.11: a note a Part 2 program's staff write is Part 2 data whatever its
    category."""
    return bool(part2_ids(db, CaseNote, [ident(note.id)]))


def note_categories(
    db: Session, viewer: Viewer, person_id: int, facts: Facts | None = None
) -> list[Category]:
    """The categories this viewer may file a case note under for this client (what
    add_case_note accepts), for the note form; decides without reading or disclosing data.
    `facts`, when the page has just gathered them for a read, saves gathering them again."""
    if not allowed(viewer.role, Action.notes_write):
        return []
    try:
        return writable_categories(db, viewer, person_id, facts)
    finally:
        db.rollback()  # SQLite: release the read transaction before the next write
