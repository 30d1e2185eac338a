"""The contact log: each time a case manager meets a client, or looks for them where they are
(LEAD's outreach). A contact is engagement; its short note carries its own category.

    entry_id = log_contact(db, viewer, actor, person_id, raw)

A contact (not a mere attempt) moves the client's last contact forward, never back: the work
group's "not seen recently" proposals and the caseload read that date."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from hub.accounts.sessions import Viewer
from hub.audit.log import Actor, Event, append_and_commit
from hub.caserecord.forms import ContactEntryValues, FormErrors, parse_values
from hub.caserecord.models import ContactEntry
from hub.caserecord.writing import lock_person, require_write
from hub.clients.models import Person
from hub.db import rollback_on_error, utcnow
from hub.vocabulary import Category, ContactKind, Purpose, SecurityEventTag

# An attempt that found nobody is kept in the log but is no contact: the client was not seen.
NOT_A_CONTACT = frozenset({ContactKind.outreach_attempt})


def log_contact(
    db: Session,
    viewer: Viewer,
    actor: Actor,
    person_id: int,
    raw: Mapping[str, Any],
    *,
    today: date | None = None,
) -> int:
    """Validates (every field at once), checks the write policy for engagement and for the
    note's category, adds the entry, moves last contact forward, logs and commits."""
    values = parse_values(ContactEntryValues, raw, today or utcnow().date())
    note_category = None
    if values.note_category is not None:
        try:
            note_category = Category(values.note_category)
        except ValueError:
            raise FormErrors({"note_category": "choose a category for the note"}) from None
    grant = require_write(db, viewer, person_id, Category.engagement, actor)
    if note_category is not None and note_category != Category.engagement:
        require_write(db, viewer, person_id, note_category, actor)
    with rollback_on_error(db):
        lock_person(db, person_id)
        entry = ContactEntry(
            person_id=person_id,
            contact_on=values.contact_on,
            kind=values.kind,
            place_kind=values.place_kind,
            note=values.note,
            note_category=note_category if values.note else None,
            recorded_by_id=viewer.user_id,
            recorded_at=utcnow(),
        )
        db.add(entry)
        person = db.get(Person, person_id)
        assert person is not None  # require_write found the client
        if values.kind not in NOT_A_CONTACT and (
            person.last_contact_on is None or values.contact_on > person.last_contact_on
        ):
            person.last_contact_on = values.contact_on
            db.add(person)
        db.flush()
        categories = {Category.engagement.value}
        if entry.note_category is not None:
            categories.add(entry.note_category.value)
        append_and_commit(
            db,
            actor,
            Event(
                kind="security",
                tag=SecurityEventTag.contact_logged.value,
                outcome="success",
                purpose=Purpose.case_management.value,
                person_id=person_id,
                categories=sorted(categories),
                policy_version=grant.read.policy_version,
                detail={"contact_id": entry.id, "write_policy_version": grant.write_policy_version},
            ),
        )
    assert entry.id is not None
    return entry.id
