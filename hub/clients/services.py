"""Writing to a client's record: case notes."""

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit, append_refusal
from hub.clients.models import CaseNote
from hub.db import rollback_on_error, utcnow
from hub.disclosure.policy import Facts, PersonNotFound, decide, gather_facts
from hub.disclosure.releases import policy_in_force
from hub.permissions import allowed
from hub.vocabulary import Action, Category, Purpose, SecurityEventTag

MAX_NOTE_LENGTH = 20_000


class NoteError(ValueError):
    """The note cannot be added as asked; nothing changed."""


def add_case_note(
    db: Session, viewer: Viewer, person_id: int, category: Category, body: str, actor: Actor
) -> CaseNote:
    """Adds a case note in a category the author may see for case management (so nobody files
    a note where they could not read it back, and a note's label is never lower than what it
    holds); logs case_note_created and commits."""
    with rollback_on_error(db):
        if not allowed(viewer.role, Action.notes_write):
            raise NoteError("Your role does not write case notes.")
        try:
            category = Category(category)
        except ValueError as exc:
            raise NoteError("A case note needs a category.") from exc
        body = body.strip()
        if not body or len(body) > MAX_NOTE_LENGTH:
            raise NoteError(f"A case note holds 1 to {MAX_NOTE_LENGTH} characters.")
        now = utcnow()
        # A refused note is a refused access (ASVS V16): logged with the client's record
        # number and the category tried, never the note.
        refusal = {"action": Action.notes_write.value, "person_id": person_id}
        try:
            facts = gather_facts(db, viewer, person_id, now)
        except PersonNotFound as exc:
            append_refusal(db, actor, refusal)
            raise NoteError(str(exc)) from exc
        decision = decide(viewer, facts, Purpose.case_management, policy_in_force(db))
        if not decision.allows(category):
            append_refusal(db, actor, {**refusal, "category": category.value})
            raise NoteError(f"You cannot file a note under {category.value} for this client.")
        note = CaseNote(
            person_id=person_id,
            author_id=viewer.user_id,
            category=category,
            written_at=now,
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
            policy_version=decision.policy_version,
            detail={"note_id": note.id},
        )
        append_and_commit(db, actor, event)
        return note


def note_categories(
    db: Session, viewer: Viewer, person_id: int, facts: Facts | None = None
) -> list[Category]:
    """The categories this viewer may file a case note under for this client (what
    add_case_note accepts), for the note form; decides without reading or disclosing data.
    `facts`, when the page has just gathered them for a read, saves gathering them again."""
    if not allowed(viewer.role, Action.notes_write):
        return []
    try:
        policy = policy_in_force(db)
        if facts is None:
            facts = gather_facts(db, viewer, person_id, utcnow())
    except PersonNotFound:
        return []
    finally:
        db.rollback()  # SQLite: release the read transaction before the next write
    return decide(viewer, facts, Purpose.case_management, policy).categories
